import { InMemoryReplicationHub } from '../../../src/adapters/outbound/memory/in-memory-replication-transport';
import type { Clock } from '../../../src/application/ports/clock.port';
import type { Logger } from '../../../src/application/ports/logger.port';
import type { ReplicationTransport } from '../../../src/application/ports/replication-transport.port';
import { LeaderReplication } from '../../../src/application/partitions/leader-replication';
import { PartitionFollower } from '../../../src/application/partitions/partition-follower';
import type { PartitionRef } from '../../../src/domain/shared/ids';
import type { Prng } from '../../../src/domain/shared/prng';
import { SimulatedScheduler, VirtualClock } from '../virtual-scheduler';
import { CrashablePartitionLog, ReplicaDisk } from './crashable-partition-log';
import { FaultyReplicationTransport, ReplicationNetwork } from './faulty-replication-transport';
import { ReplicationInvariants } from './replication-invariants';
import type { ObservedReplica } from './replication-invariants';

/** The knobs of one simulated partition, drawn from the seed. */
export interface ReplicationOptions {
  readonly ids: readonly string[];
  readonly minIsr: number;
  readonly maxLagTimeMs: number;
  readonly fetchWaitMs: number;
  readonly fetchTimeoutMs: number;
  readonly replyBytesMax: number;
  /** Each fsync completes after a delay drawn from [0, syncLatencyMaxMs]. */
  readonly syncLatencyMaxMs: number;
}

/** The controller's record of the partition (what the metadata group holds). */
export interface PartitionMetadata {
  readonly leader: string;
  readonly leaderEpoch: number;
  readonly isr: readonly string[];
}

interface LeaderRole {
  readonly kind: 'leader';
  readonly epoch: number;
  readonly replication: LeaderReplication;
  /** PartitionLeader's pending ALL acks: durable batches waiting for the high watermark. */
  pendingCommits: { firstOffset: number; lastOffset: number }[];
  started: boolean;
  stopped: boolean;
}

interface FollowerRole {
  readonly kind: 'follower';
  readonly epoch: number;
  readonly follower: PartitionFollower;
}

/** One life of one replica; all of it dies in a crash. */
interface Incarnation {
  readonly scheduler: SimulatedScheduler;
  readonly log: CrashablePartitionLog;
  readonly transport: ReplicationTransport;
  role: LeaderRole | FollowerRole | null;
  /** Role changes run one at a time, like the PartitionSupervisor's queue. */
  work: Promise<void>;
  alive: boolean;
}

export class SimulatedReplica implements ObservedReplica {
  readonly disk = new ReplicaDisk();
  current: Incarnation | null = null;
  /** False while partitioned away from everyone, the controller included. */
  reachable = true;

  constructor(readonly id: string) {}

  get up(): boolean {
    return this.current !== null;
  }

  get log(): CrashablePartitionLog | null {
    return this.current?.log ?? null;
  }
}

const flushPromiseJobs = async (): Promise<void> => {
  await undefined;
  await new Promise<void>((resolve) => process.nextTick(resolve));
};

const INSTANTS_PER_MS_MAX = 10_000;
/** The controller (metadata group) takes this long to record an ISR change. */
const CONTROLLER_LATENCY_MS = 3;
const REF: PartitionRef = { stream: 'sim', partition: 0 };

/**
 * One partition replicated on N simulated replicas: the real `LeaderReplication` on the leader and
 * `PartitionFollower` on the others, over `CrashablePartitionLog`s, the real
 * `InMemoryReplicationHub` (with loss and delay added per replica), and a simulated controller
 * (`metadata`) applying the rules of `decideIsrChange` and `decideLeaderChange`. One virtual clock,
 * one seeded PRNG.
 */
export class ReplicationCluster {
  readonly clock = new VirtualClock();
  /** Timers of the hub and the controller: they never crash. */
  private readonly world = new SimulatedScheduler(this.clock);
  private readonly hub = new InMemoryReplicationHub({ scheduler: this.world });
  readonly network: ReplicationNetwork;
  readonly replicas: readonly SimulatedReplica[];
  readonly invariants: ReplicationInvariants;
  readonly failures: string[] = [];
  readonly counts = { crashes: 0, recordsLost: 0, failovers: 0, isrShrinks: 0, isrExpands: 0, produced: 0, acked: 0, followerErrors: 0 };
  metadata: PartitionMetadata;
  private epochs = 1;
  private produceSeq = 0;
  private readonly traceLines: string[] = [];

  constructor(
    private readonly prng: Prng,
    readonly options: ReplicationOptions,
    private readonly label: string,
  ) {
    this.network = new ReplicationNetwork(prng);
    this.replicas = options.ids.map((id) => new SimulatedReplica(id));
    this.invariants = new ReplicationInvariants(new Map(this.replicas.map((r) => [r.id, r.disk])));
    this.metadata = { leader: options.ids[0]!, leaderEpoch: this.epochs, isr: [...options.ids] };
  }

  replica(id: string): SimulatedReplica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  get trace(): readonly string[] {
    return this.traceLines;
  }

  note(line: string): void {
    this.traceLines.push(`t=${this.clock.nowMs}ms ${line}`);
    if (this.traceLines.length > 50) this.traceLines.shift();
  }

  /** Positions of every replica, for the trace and failure reports. */
  positions(): string {
    return this.replicas
      .map((r) => {
        const log = r.log;
        const role = r.current?.role;
        const where = log === null ? 'down' : `newest ${log.newestOffset} durable ${log.durableOffset} hw ${log.highWatermark} epochs≤${log.lastLeaderEpoch}`;
        return `${r.id}${r.reachable ? '' : '(cut)'} ${role ? `${role.kind}@${role.epoch}` : '-'} ${where}`;
      })
      .join('; ');
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** A new incarnation over the replica's disk (also the first start). */
  restart(replica: SimulatedReplica): void {
    if (replica.current !== null) throw new Error(`${replica.id} is already up`);
    const scheduler = new SimulatedScheduler(this.clock);
    const log = new CrashablePartitionLog(REF, replica.id, replica.disk, scheduler, () => this.clock.nowMs, () => this.prng.nextInt(this.options.syncLatencyMaxMs + 1), this.invariants);
    const transport = new FaultyReplicationTransport(this.hub.connect(replica.id), this.network, scheduler);
    replica.current = { scheduler, log, transport, role: null, work: Promise.resolve(), alive: true };
    this.invariants.restarted(replica);
    // A restarted leader is failed over when the controller can; otherwise it leads its epoch again.
    if (this.metadata.leader === replica.id && this.failover(replica.id, 'restarted')) return;
    this.reconcile(replica);
  }

  /** Kills the incarnation at once: timers, pending fsyncs and served subscriptions go; unsynced records are lost. */
  crash(replica: SimulatedReplica): number {
    const inc = replica.current;
    if (inc === null) return 0;
    inc.alive = false;
    inc.scheduler.cancelAll();
    const lost = inc.log.loseUnsynced();
    void inc.transport.close();
    if (inc.role?.kind === 'leader') inc.role.stopped = true;
    if (this.invariants.currentLeader === replica.id) this.invariants.currentLeader = null;
    replica.current = null;
    this.counts.crashes++;
    this.counts.recordsLost += lost;
    return lost;
  }

  setReachable(replica: SimulatedReplica, reachable: boolean): void {
    replica.reachable = reachable;
    this.hub.setReachable(replica.id, reachable);
    // Back in touch with the metadata group: the replica learns what changed meanwhile.
    if (reachable) this.reconcile(replica);
  }

  // ---- the controller --------------------------------------------------------------------

  /**
   * `decideLeaderChange`: the new leader is an in-sync replica other than the failed one (here also
   * up and reachable), the failed one leaves the ISR, the epoch is bumped. False when no candidate.
   */
  failover(failed: string, why: string): boolean {
    if (this.metadata.leader !== failed) return false;
    const candidates = this.metadata.isr.filter((id) => id !== failed && this.replica(id).up && this.replica(id).reachable);
    if (candidates.length === 0) {
      this.note(`no ISR candidate to replace ${failed} (${why}); isr ${this.metadata.isr.join(',')}`);
      return false;
    }
    const leader = candidates[this.prng.nextInt(candidates.length)]!;
    this.epochs++;
    this.metadata = { leader, leaderEpoch: this.epochs, isr: this.metadata.isr.filter((id) => id !== failed) };
    this.counts.failovers++;
    this.note(`failover (${why}): ${leader} leads epoch ${this.epochs}, isr ${this.metadata.isr.join(',')}`);
    for (const r of this.replicas) this.reconcile(r);
    return true;
  }

  /** `decideIsrChange`, after the controller's latency: only the current leader of the current epoch, never about itself. */
  private requestIsrChange(from: SimulatedReplica, inc: Incarnation, epoch: number, type: 'ShrinkIsr' | 'ExpandIsr', replica: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.world.setTimeout(() => {
        const m = this.metadata;
        if (!inc.alive || !from.reachable) return reject(new Error('controller unreachable'));
        // Refusals (the controller's LeaderGenerationMismatch and NotAReplica) are definite answers.
        if (m.leader !== from.id || m.leaderEpoch !== epoch) return resolve(false);
        if (replica === m.leader || !this.options.ids.includes(replica)) return resolve(false);
        const shrink = type === 'ShrinkIsr';
        if (shrink === m.isr.includes(replica)) {
          this.metadata = { ...m, isr: shrink ? m.isr.filter((id) => id !== replica) : [...m.isr, replica] };
          if (shrink) this.counts.isrShrinks++;
          else this.counts.isrExpands++;
          this.note(`${type} ${replica} by ${from.id}@${epoch}: isr ${this.metadata.isr.join(',')}`);
          for (const r of this.replicas) this.reconcile(r);
        }
        resolve(true);
      }, CONTROLLER_LATENCY_MS);
    });
  }

  // ---- roles (what the PartitionSupervisor does) -----------------------------------------

  /** Queues bringing the replica's role in line with the metadata (when it is up and hears the controller). */
  reconcile(replica: SimulatedReplica): void {
    const inc = replica.current;
    if (inc === null || !replica.reachable) return;
    inc.work = inc.work
      .then(() => this.reconcileNow(replica, inc))
      .catch((error: unknown) => {
        if (inc.alive) this.failures.push(`role change on ${replica.id} failed: ${errorText(error)}`);
      });
  }

  private async reconcileNow(replica: SimulatedReplica, inc: Incarnation): Promise<void> {
    if (!inc.alive || !replica.reachable) return;
    const m = this.metadata;
    const kind = m.leader === replica.id ? 'leader' : 'follower';
    const role = inc.role;
    if (role !== null && role.kind === kind && role.epoch === m.leaderEpoch) {
      if (role.kind === 'leader') role.replication.updateIsr(m.isr);
      return;
    }
    // Stop the old role, then start the new one (stop first: a follower's loop finishes its append).
    inc.role = null;
    if (role?.kind === 'leader') {
      role.stopped = true;
      role.pendingCommits = [];
      role.replication.stop();
    } else if (role?.kind === 'follower') {
      await role.follower.stop();
    }
    if (!inc.alive) return;
    if (kind === 'leader') await this.startLeader(replica, inc, m);
    else this.startFollower(replica, inc, m.leaderEpoch);
  }

  private async startLeader(replica: SimulatedReplica, inc: Incarnation, m: PartitionMetadata): Promise<void> {
    const epoch = m.leaderEpoch;
    // PartitionLeader.start: the leader owns its epoch in the log before it accepts anything.
    inc.log.beginLeaderEpoch(epoch);
    this.invariants.leaderStarted(replica.id, epoch);
    this.invariants.currentLeader = replica.id;
    const clock: Clock = { nowMs: () => this.clock.nowMs, nowNs: () => BigInt(this.clock.nowMs) * 1_000_000n };
    let role: LeaderRole | null = null;
    const replication = new LeaderReplication(
      {
        self: replica.id,
        ref: REF,
        leaderEpoch: epoch,
        replicas: this.options.ids,
        isr: m.isr,
        minIsr: this.options.minIsr,
        maxLagTimeMs: this.options.maxLagTimeMs,
        fetchWaitMs: this.options.fetchWaitMs,
        replyBytesMax: this.options.replyBytesMax,
      },
      {
        log: inc.log,
        transport: inc.transport,
        clock,
        scheduler: inc.scheduler,
        logger: this.logger(replica.id),
        requestIsrChange: (type, id) => this.requestIsrChange(replica, inc, epoch, type, id),
        onCommitted: (offset) => {
          if (role !== null) this.onCommitted(replica, inc, role, offset);
        },
      },
    );
    role = { kind: 'leader', epoch, replication, pendingCommits: [], started: false, stopped: false };
    inc.role = role;
    await replication.start();
    role.started = true;
    // The metadata may have moved on while it started (an ISR change): take the latest.
    if (this.metadata.leaderEpoch === epoch) replication.updateIsr(this.metadata.isr);
    this.note(`${replica.id} leads epoch ${epoch} (${this.positions()})`);
  }

  private startFollower(replica: SimulatedReplica, inc: Incarnation, epoch: number): void {
    if (this.invariants.currentLeader === replica.id) this.invariants.currentLeader = null;
    const follower = new PartitionFollower(
      // The simulated controller replaces leaders by its own rules: reports are not modelled here.
      { self: replica.id, ref: REF, leaderEpoch: epoch, fetchTimeoutMs: this.options.fetchTimeoutMs, leaderTimeoutMs: Number.POSITIVE_INFINITY },
      {
        log: inc.log,
        transport: inc.transport,
        scheduler: inc.scheduler,
        clock: { nowMs: () => this.clock.nowMs, nowNs: () => BigInt(this.clock.nowMs) * 1_000_000n },
        logger: this.logger(replica.id),
        inIsr: () => this.metadata.isr.includes(replica.id),
        reportLeader: async () => undefined,
      },
    );
    inc.role = { kind: 'follower', epoch, follower };
    follower.start();
  }

  // ---- the producer (PartitionLeader's append and ack rules) ------------------------------

  /** Appends `count` records on `replica` if it runs a started leader role (current or stale). */
  produce(replica: SimulatedReplica, count: number, tag: string): boolean {
    const inc = replica.current;
    const role = inc?.role;
    if (inc === undefined || inc === null || role?.kind !== 'leader' || !role.started || role.stopped) return false;
    const records = Array.from({ length: count }, () => ({
      key: null,
      value: Buffer.from(`${this.label}:${tag}:${this.produceSeq++}`),
      headers: null,
      subject: 'sim',
      reply: '',
    }));
    const pending = inc.log.append(records, BigInt(this.clock.nowMs) * 1_000_000n, role.epoch);
    this.counts.produced += count;
    // PartitionLeader.replicatedDurable: once durable here, wait for the high watermark, wake fetches.
    pending.durable.then(() => {
      if (role.stopped || !inc.alive) return;
      role.pendingCommits.push({ firstOffset: pending.firstOffset, lastOffset: pending.lastOffset });
      role.replication.localAppended();
    }, (error: unknown) => this.failures.push(`append on ${replica.id} failed: ${errorText(error)}`));
    return true;
  }

  /**
   * PartitionLeader.onCommitted: ALL acks for the batches the high watermark covers, sent only while
   * the ack lease holds — modelled as: this role leads the current epoch and hears the controller.
   */
  private onCommitted(replica: SimulatedReplica, inc: Incarnation, role: LeaderRole, offset: number): void {
    let covered = 0;
    while (covered < role.pendingCommits.length && role.pendingCommits[covered]!.lastOffset <= offset) covered++;
    const done = role.pendingCommits.splice(0, covered);
    const leaseHeld = inc.alive && replica.reachable && this.metadata.leader === replica.id && this.metadata.leaderEpoch === role.epoch;
    if (!leaseHeld) return;
    for (const batch of done) {
      for (let o = batch.firstOffset; o <= batch.lastOffset; o++) {
        this.invariants.acked(replica.id, o, replica.disk.entryAt(o), role.epoch);
        this.counts.acked++;
      }
    }
  }

  // ---- time ------------------------------------------------------------------------------

  /** Lets `ms` of virtual time pass, instant by instant, flushing promise jobs and checking after each. */
  async runFor(ms: number): Promise<void> {
    const until = this.clock.nowMs + ms;
    let lastAt = -1;
    let instants = 0;
    await flushPromiseJobs();
    this.check();
    while (this.clock.runNextInstant(until)) {
      if (this.clock.nowMs === lastAt) {
        if (++instants > INSTANTS_PER_MS_MAX) throw new Error(`more than ${INSTANTS_PER_MS_MAX} timer instants at ${lastAt} ms: a zero-delay loop`);
      } else {
        lastAt = this.clock.nowMs;
        instants = 0;
      }
      await flushPromiseJobs();
      this.check();
    }
    this.clock.advanceTo(until);
  }

  check(): void {
    this.invariants.check(this.replicas);
    const failure = this.invariants.violation ?? this.failures[0];
    if (failure !== undefined) throw new Error(failure);
  }

  private logger(id: string): Logger {
    const log = (level: string) => (obj: object, msg: string): void => {
      if (msg === 'follower stopped replicating') {
        this.counts.followerErrors++;
        this.failures.push(`${id}: ${msg}: ${errorText((obj as { err?: unknown }).err)}`);
      } else if (level === 'error' || (level === 'info' && msg.startsWith('truncating'))) {
        this.note(`${id} ${level}: ${msg} ${JSON.stringify(obj)}`);
      }
    };
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
    return logger;
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
