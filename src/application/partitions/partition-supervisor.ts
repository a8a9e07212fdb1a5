import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import { PartitionState } from '../../domain/partition/partition-state';
import { partitionKey, PartitionRef } from '../../domain/shared/ids';
import { StreamState } from '../../domain/stream/stream-state';
import { StorageIoError } from '../errors/broker-errors';
import { AppliedEntry, AppliedSnapshot, MetadataService } from '../metadata/metadata-service';
import { Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { Metrics } from '../ports/metrics.port';
import { MessageTransport } from '../ports/message-transport.port';
import { PartitionLogStore } from '../ports/partition-log.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { AckLease } from '../ports/ack-lease.port';
import { ReplicationTransport } from '../ports/replication-transport.port';
import { ValueEncryption, ValueSealer } from '../ports/value-encryption.port';
import { DamagedPartitionReport, PartitionHealthMonitor, MonitoredPartition } from './partition-health-monitor';
import { autoPauseFor, cleanerIntervalMsFor, concurrencyControlFor, logOptionsFor, minIsrFor } from './log-options';
import { PartitionControllerRequests } from './partition-controller-requests';
import { PartitionFollower } from './partition-follower';
import { PartitionLeader } from './partition-leader';
import { PartitionRuntime, ReceivedTimestamps } from './partition-runtime';
import { PartitionStartFailure, PartitionStartFailures } from './partition-start-failures';
import { GroupSubscribers } from './group-subscribers';
import { PartitionSubscriptions } from './partition-subscriptions';
import { ConcurrencyLimit, forEachBounded, RunningPartitions } from './running-partitions';
import { monitoredOf, needsRestart, Running } from './running-partition-entry';

/**
 * Partitions opened at once, over every stream being reconciled: a restart or a CreateStream of
 * thousands of partitions waits on file I/O per partition, which overlaps when several start
 * together (docs/operability.md "Restart time"); the bound keeps the descriptors and memory of
 * starts in flight small.
 */
const PARTITION_STARTS_IN_FLIGHT = 32;
/** Streams started at once after recovery, sharing that bound: 4-partition streams one by one opened 4 at a time. */
const RECOVERED_STREAMS_IN_FLIGHT = 32;
/** Partitions named in a log line about start failures; the rest are counted. */
const FAILURES_LOGGED_MAX = 10;

/**
 * Makes what runs on this server match the applied metadata (docs/style.md "Metadata events", step 5): opens the logs of
 * the partitions it replicates, starts the leader role where it leads, closes paused partitions,
 * deletes deleted streams. It reconciles whole streams after each applied entry, one at a time, so
 * a pause, a resume or a delete-and-recreate is just "desired state differs from running state".
 */
@injectable()
export class PartitionSupervisor {
  private readonly running = new RunningPartitions<Running>();
  /** Partition starts in flight over every stream being reconciled. */
  private readonly partitionStarts = new ConcurrencyLimit(PARTITION_STARTS_IN_FLIGHT);
  /** Received timestamps survive pause/resume (docs/protocol.md "PauseStream": resuming keeps event timestamps). */
  private readonly receivedByPartition = new Map<string, ReceivedTimestamps>();
  private readonly deletedDuringRecovery = new Set<string>();
  /** Recovery started from a snapshot: deletions before it are unknown (see onSnapshot). */
  private recoveredFromSnapshot = false;
  private subscription: Subscription | null = null;
  private work: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly damage: PartitionHealthMonitor;
  private readonly startFailures: PartitionStartFailures;
  private readonly requests: PartitionControllerRequests;
  /** Controlled shutdown under way: roles stop as the metadata asks, none start (see `drain`). */
  private draining = false;
  /** Counted by Subscribe, read by auto-pausing leaders. */
  readonly subscriptions = new PartitionSubscriptions();
  /** Consumer-group subscribers per partition, fenced by Subscribe (docs/consumers.md "Fencing"). */
  readonly groupSubscribers = new GroupSubscribers();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.PartitionLogStore) private readonly store: PartitionLogStore,
    @inject(TOKENS.MessageTransport) private readonly transport: MessageTransport,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
    @inject(TOKENS.ReplicationTransport) private readonly replication: ReplicationTransport,
    @inject(MetadataGateway) gateway: MetadataGateway,
    @inject(TOKENS.AckLease) private readonly ackLease: AckLease,
    @inject(TOKENS.ValueEncryption) private readonly encryption: ValueEncryption,
  ) {
    this.startFailures = new PartitionStartFailures(scheduler);
    this.requests = new PartitionControllerRequests({ gateway, ackLease, settings, logger, clock });
    this.damage = new PartitionHealthMonitor({
      self: settings.serverId,
      scheduler,
      logger,
      partitions: () => this.monitored(),
      handOverLeadership: async (state) => {
        if (!(await this.requests.handOverLeadership(state))) return false;
        await this.stopLeadingAfterHandOver(state);
        return true;
      },
    });
  }

  /** Subscribe before the metadata replays, so recovery can record deletions (tombstones). */
  watch(): void {
    this.subscription = this.metadata.applied$.subscribe((entry) => this.onApplied(entry));
    this.damage.start();
  }

  /** After replay: start everything the final state asks for and remove streams deleted while down. */
  async startRecovered(): Promise<void> {
    if (this.recoveredFromSnapshot) {
      for (const ref of await this.store.list()) this.deletedDuringRecovery.add(ref.stream);
      this.recoveredFromSnapshot = false;
    }
    for (const name of this.deletedDuringRecovery) {
      if (!this.metadata.state.streams.has(name)) await this.store.deleteStream(name);
    }
    this.deletedDuringRecovery.clear();
    const names = [...this.metadata.state.streams.keys()];
    this.work = this.work.then(() => forEachBounded(names, RECOVERED_STREAMS_IN_FLIGHT, (name) => this.reconcileLogged(name)));
    await this.work;
    this.damage.check(); // damage recovery found is reported (and a leader hands over) at once
  }

  /**
   * Controlled shutdown (docs/replication.md): from now on no role starts here — a partition this
   * server hands over stops leading and does not become a follower, which the new leader could
   * otherwise take back into the ISR — and every follower role stops now, so this server can
   * leave the ISRs without being re-admitted. Leaders keep running until their hand-over applies.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await this.work;
    const followers = [...this.running].filter(([, r]) => r.follower !== null).map(([key]) => key);
    await Promise.all(followers.map((key) => this.stopPartition(key, 'closed')));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.startFailures.cancelRetries();
    this.damage.stop();
    this.subscription?.unsubscribe();
    await this.work;
    // A reconciliation under way when stop began may have scheduled a retry since: a live timer keeps the process up.
    this.startFailures.cancelRetries();
    await Promise.all([...this.running.keys()].map((key) => this.stopPartition(key, 'closed')));
  }

  /** The runtime of a partition this server has open, if any. */
  get(ref: PartitionRef): PartitionRuntime | undefined {
    const r = this.running.get(partitionKey(ref));
    if (!r) return undefined;
    return { state: r.state, log: r.log, received: r.received, isLeader: r.leader !== null, metrics: r.metrics };
  }

  /**
   * Whether a reader that reached a damaged record of this partition should wait for its repair
   * (an in-sync replica holds a good copy), rather than end with DATA_LOSS (docs/storage.md §4.1).
   */
  repairable(ref: PartitionRef): boolean {
    const r = this.running.get(partitionKey(ref));
    return r !== undefined && this.damage.repairable(monitoredOf(r));
  }

  /** Partitions with damaged records on this server: for operators (GET /partitions/damaged). */
  damagedPartitions(): DamagedPartitionReport[] {
    return this.damage.report();
  }

  /**
   * The partitions whose log cannot write now (a full disk), with why: they refuse appends until
   * their log recovered by itself (readiness and metrics read this; docs/operability.md).
   */
  storageFailures(): { readonly ref: PartitionRef; readonly failure: StorageIoError }[] {
    const failed: { ref: PartitionRef; failure: StorageIoError }[] = [];
    for (const r of this.running.values()) {
      const failure = r.log.storageFailure;
      if (failure !== null) failed.push({ ref: { stream: r.state.stream, partition: r.state.id }, failure });
    }
    return failed;
  }

  /**
   * The partitions this server should run and could not start (their log could not open: out of
   * descriptors, a full disk...), with why; each is retried with a back-off until it starts
   * (readiness, metrics, CreateStream and publish errors read this; docs/operability.md).
   */
  partitionsNotStarted(): PartitionStartFailure[] {
    return this.startFailures.all();
  }

  /** Whether any partition could not start here (one integer compare: the publish path asks first). */
  get anyNotStarted(): boolean {
    return this.startFailures.size > 0;
  }

  /** Why `ref` could not start here, if it failed to. */
  notStarted(ref: PartitionRef): PartitionStartFailure | undefined {
    return this.startFailures.get(ref);
  }

  /** The partitions of `stream` that could not start here. */
  notStartedOf(stream: string): PartitionStartFailure[] {
    return this.startFailures.size === 0 ? [] : this.startFailures.ofStream(stream);
  }

  /** Received timestamps, also for paused partitions. */
  receivedTimestamps(ref: PartitionRef): ReceivedTimestamps | undefined {
    return this.receivedByPartition.get(partitionKey(ref));
  }

  /** Resolves once every reconciliation queued so far has finished. */
  settled(): Promise<void> {
    return this.work;
  }

  private onApplied(entry: AppliedEntry): void {
    if (entry.kind === 'snapshot') {
      this.onSnapshot(entry);
      return;
    }
    if (entry.outcome.kind !== 'applied') return;
    const touched = new Set<string>();
    for (const event of entry.outcome.events) {
      // Only stream and partition events concern partitions (not brokers, groups or the activity stream's progress).
      const name = 'name' in event.data ? event.data.name : 'stream' in event.data ? event.data.stream : null;
      if (name === null) continue;
      touched.add(name);
      if (entry.recovered && event.type === 'StreamDeleted') this.deletedDuringRecovery.add(name);
    }
    if (entry.recovered) return; // roles start once replay has finished (startRecovered)
    for (const name of touched) this.enqueue(name);
  }

  /**
   * A snapshot replaced the state: there are no events saying what changed, so every stream that
   * existed before, exists now, or runs here is reconciled (started, restarted, stopped or deleted).
   * During recovery nothing runs yet and the deletions the snapshot compacted away are unknown:
   * `startRecovered` then removes the logs on disk of every stream the state no longer has.
   */
  private onSnapshot(entry: AppliedSnapshot): void {
    if (entry.recovered) {
      this.recoveredFromSnapshot = true;
      return;
    }
    const names = new Set<string>([...entry.previous.streams.keys(), ...entry.state.streams.keys()]);
    for (const r of this.running.values()) names.add(r.state.stream);
    for (const name of names) this.enqueue(name);
  }

  private enqueue(streamName: string): void {
    this.work = this.work.then(() => this.reconcileLogged(streamName));
  }

  /** Reconciles one stream; never rejects (a failure is logged): the queue goes on with the next stream. */
  private reconcileLogged(streamName: string): Promise<void> {
    return this.reconcile(streamName).catch((error: unknown) => this.logger.error({ err: error, stream: streamName }, 'failed to reconcile stream'));
  }

  private async reconcile(streamName: string): Promise<void> {
    if (this.stopping) return;
    const stream = this.metadata.state.streams.get(streamName);
    for (const key of this.running.keysOf(streamName)) {
      const r = this.running.get(key);
      if (r === undefined) continue;
      const desired = stream?.partitions[r.state.id];
      if (!desired) await this.stopPartition(key, 'deleted');
      else if (needsRestart(r.state, desired)) await this.stopPartition(key, 'closed');
      else {
        // Read-only and event timestamps change in place: subscribers keep their stream.
        r.state = desired;
        r.log.setReadonly(desired.readonly);
        r.leader?.updateIsr(desired.isr);
      }
    }
    if (!stream) {
      await this.store.deleteStream(streamName);
      const prefix = partitionKey({ stream: streamName, partition: 0 }).slice(0, -1);
      for (const key of [...this.receivedByPartition.keys()]) if (key.startsWith(prefix)) this.receivedByPartition.delete(key);
      this.settleStartFailures(streamName);
      return;
    }
    const toStart = this.draining
      ? []
      : stream.partitions.filter(
          (p) => !this.running.has(partitionKey({ stream: streamName, partition: p.id })) && !p.paused && p.replicas.includes(this.settings.serverId),
        );
    await forEachBounded(toStart, PARTITION_STARTS_IN_FLIGHT, (partition) => this.partitionStarts.run(() => this.startOrRecordFailure(stream, partition)));
    this.settleStartFailures(streamName);
  }

  private reportCounts(): void {
    this.metrics.partitionsRunning(this.running.size, this.running.leaders);
  }

  /** Starts a partition; a failure is recorded (and retried), never thrown: the stream's other partitions still start. */
  private async startOrRecordFailure(stream: StreamState, partition: PartitionState): Promise<void> {
    const ref = { stream: stream.name, partition: partition.id };
    try {
      await this.startPartition(stream, partition);
    } catch (error) {
      const failure = this.startFailures.failed(ref, error);
      this.metrics.partitionStartFailed(failure.code);
      if (failure.attempts === 1) this.logger.debug({ err: error, ...ref }, 'partition could not start');
      return;
    }
    const recovered = this.startFailures.cleared(ref);
    if (recovered) this.logger.info({ ...ref, failedAttempts: recovered.attempts, lastCode: recovered.code }, 'partition started after failed attempts');
  }

  /**
   * After a reconciliation of `streamName`: failures of partitions no longer this server's to run
   * are dropped; the others are logged (one line per stream) and retried after a back-off.
   */
  private settleStartFailures(streamName: string): void {
    const stream = this.metadata.state.streams.get(streamName);
    for (const failure of this.notStartedOf(streamName)) {
      const desired = stream?.partitions[failure.ref.partition];
      if (!desired || desired.paused || !desired.replicas.includes(this.settings.serverId)) this.startFailures.cleared(failure.ref);
    }
    const failures = this.notStartedOf(streamName);
    const retryInMs = this.startFailures.scheduleRetry(streamName, () => this.enqueue(streamName));
    this.metrics.partitionsNotStarted(this.startFailures.size);
    if (failures.length === 0) return;
    this.logger.error(
      {
        stream: streamName,
        failed: failures.length,
        partitions: failures.slice(0, FAILURES_LOGGED_MAX).map((f) => f.ref.partition),
        codes: [...new Set(failures.map((f) => f.code))],
        firstError: failures[0]!.message,
        retryInMs,
      },
      'partitions could not start: retrying',
    );
  }

  private async startPartition(stream: StreamState, partition: PartitionState): Promise<void> {
    const ref = { stream: stream.name, partition: partition.id };
    const key = partitionKey(ref);
    const log = await this.store.open(ref, logOptionsFor(stream, this.settings.streamDefaults));
    log.setReadonly(partition.readonly);
    let received = this.receivedByPartition.get(key);
    if (!received) {
      received = new ReceivedTimestamps();
      this.receivedByPartition.set(key, received);
    }
    const cleaner = this.scheduler.setInterval(() => {
      log.enforceRetention(this.clock.nowNs()).catch((error: unknown) => this.logger.error({ err: error, ...ref }, 'retention failed'));
    }, cleanerIntervalMsFor(stream, this.settings.streamDefaults));
    const metrics = this.metrics.partition(stream.name, partition.id);
    const running: Running = { state: partition, log, leader: null, follower: null, cleaner, received, metrics };
    this.running.set(key, running);
    try {
      await this.startRole(stream, partition, running);
    } catch (error) {
      // The role could not start (say, a NATS subscription refused): undo, so that a retry starts afresh.
      await this.stopPartition(key, 'closed');
      throw error;
    }
    this.reportCounts();
    this.logger.debug({ ...ref, leader: partition.leader === this.settings.serverId }, 'partition started');
  }

  /** A fresh data key for each leader of an encrypted stream (docs/encryption.md); null for a clear stream. */
  private sealerFor(stream: StreamState, ref: PartitionRef): ValueSealer | null {
    if (stream.config.encryption !== true) return null;
    const unavailable = this.encryption.unavailableReason;
    if (unavailable !== null) {
      this.logger.error({ ...ref, reason: unavailable }, 'encrypted stream but no usable master key: publishes get the ENCRYPTION error, readers cannot decrypt');
    }
    return this.encryption.sealer();
  }

  private async startRole(stream: StreamState, partition: PartitionState, running: Running): Promise<void> {
    const ref = { stream: stream.name, partition: partition.id };
    const { log, received, metrics } = running;
    if (partition.leader === this.settings.serverId) {
      const leader = new PartitionLeader(
        {
          stream: stream.name,
          partition: partition.id,
          subject: stream.subject,
          group: stream.group,
          leaderEpoch: partition.leaderEpoch,
          batchMaxMessages: this.settings.batchMaxMessages,
          replicationMaxBytes: this.settings.replicationMaxBytes,
          concurrencyControl: concurrencyControlFor(stream, this.settings.streamDefaults),
          autoPause: autoPauseFor(stream, this.settings.streamDefaults),
          ...(partition.replicas.length > 1
            ? {
                replicated: {
                  self: this.settings.serverId,
                  replicas: partition.replicas,
                  isr: partition.isr,
                  minIsr: minIsrFor(stream, this.settings.streamDefaults),
                  maxLagTimeMs: this.settings.replication.maxLagTimeMs,
                  fetchWaitMs: this.settings.replication.fetchWaitMs,
                },
              }
            : {}),
        },
        {
          log,
          transport: this.transport,
          clock: this.clock,
          scheduler: this.scheduler,
          logger: this.logger.child(ref),
          received,
          metrics,
          replication: this.replication,
          requestIsrChange: (type, replica) => this.requests.changeIsr(type, partition, replica),
          ackLease: this.ackLease,
          sealer: this.sealerFor(stream, ref),
          autoPause: { requestPause: () => this.requests.pauseIdle(partition), activeSubscriptions: () => this.subscriptions.count(ref) },
          appendFailed: () => this.damage.checkSoon(),
        },
      );
      // Counted as leader (FetchPartitionMetadata answers) only once it listens on the subject.
      try {
        await leader.start();
      } catch (error) {
        await leader.stop().catch(() => undefined);
        throw error;
      }
      this.running.setLeader(partitionKey(ref), leader);
    } else {
      const follower = new PartitionFollower(
        {
          self: this.settings.serverId,
          ref,
          leaderEpoch: partition.leaderEpoch,
          fetchTimeoutMs: this.settings.replication.fetchTimeoutMs,
          leaderTimeoutMs: this.settings.replication.leaderTimeoutMs,
        },
        {
          log,
          transport: this.replication,
          scheduler: this.scheduler,
          clock: this.clock,
          logger: this.logger.child({ ...ref, role: 'follower' }),
          inIsr: () => running.state.isr.includes(this.settings.serverId),
          reportLeader: () => this.requests.reportLeader(partition),
        },
      );
      running.follower = follower;
      follower.start();
    }
  }

  /**
   * The controller recorded another leader: stop taking publishes at once, without waiting for the
   * change to be applied here. Our metadata may lag far behind (a full disk stalls its saves too),
   * and meanwhile the old role would still answer publishes on the subject (with error acks, or
   * acks the new leader never saw). The partition stays open, role-less, until the applied change
   * restarts it as a follower.
   */
  private async stopLeadingAfterHandOver(partition: PartitionState): Promise<void> {
    const r = this.running.get(partitionKey({ stream: partition.stream, partition: partition.id }));
    if (!r || r.leader === null || r.state.leaderEpoch !== partition.leaderEpoch) return;
    const leader = r.leader;
    r.leader = null;
    this.reportCounts();
    await leader.stop();
    this.logger.info({ stream: partition.stream, partition: partition.id, leaderEpoch: partition.leaderEpoch }, 'leadership handed over: stopped leading');
  }

  private *monitored(): Iterable<MonitoredPartition> {
    for (const r of this.running.values()) yield monitoredOf(r);
  }

  private async stopPartition(key: string, reason: 'closed' | 'deleted'): Promise<void> {
    const r = this.running.get(key);
    if (!r) return;
    this.running.delete(key);
    r.cleaner.cancel();
    r.metrics.release();
    this.reportCounts();
    if (r.leader) await r.leader.stop();
    if (r.follower) await r.follower.stop();
    // Closing wakes subscribers; they read the reason (and the metadata) to choose their status.
    if (reason === 'deleted') await this.store.delete({ stream: r.state.stream, partition: r.state.id });
    else await r.log.close('closed');
  }
}
