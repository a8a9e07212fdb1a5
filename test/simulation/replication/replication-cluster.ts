import { InMemoryReplicationHub } from '../../../src/adapters/outbound/memory/in-memory-replication-transport';
import type { Clock } from '../../../src/application/ports/clock.port';
import type { Logger } from '../../../src/application/ports/logger.port';
import type { Prng } from '../../../src/domain/shared/prng';
import { SimulatedScheduler, VirtualClock } from '../../support/virtual-clock';
import { CrashablePartitionLog } from './crashable-partition-log';
import { FaultyReplicationTransport, ReplicationNetwork } from './faulty-replication-transport';
import { REF, ReplicaRoles, SimulatedReplica, errorText } from './replica-roles';
import type { ReplicationOptions, RoleWorld } from './replica-roles';
import { ReplicationInvariants } from './replication-invariants';
import { SimulatedController } from './simulated-controller';
import type { PartitionMetadata } from './simulated-controller';

const flushPromiseJobs = async (): Promise<void> => {
  await undefined;
  await new Promise<void>((resolve) => process.nextTick(resolve));
};

const INSTANTS_PER_MS_MAX = 10_000;

/**
 * One partition replicated on N simulated replicas: the real `PartitionLeader` (with its
 * `LeaderReplication`) on the leader and `PartitionFollower` on the others (`ReplicaRoles`), over
 * `CrashablePartitionLog`s, the real `InMemoryReplicationHub` (with loss and delay added per
 * replica), and a `SimulatedController` holding the partition's metadata. One virtual clock, one
 * seeded PRNG.
 */
export class ReplicationCluster implements RoleWorld {
  readonly clock = new VirtualClock();
  readonly serverClock: Clock = {
    nowMs: () => this.clock.nowMs,
    nowNs: () => BigInt(this.clock.nowMs) * 1_000_000n,
  };
  /** Timers of the hub and the controller: they never crash. */
  private readonly world = new SimulatedScheduler(this.clock);
  private readonly hub = new InMemoryReplicationHub({ scheduler: this.world });
  readonly network: ReplicationNetwork;
  readonly replicas: readonly SimulatedReplica[];
  readonly invariants: ReplicationInvariants;
  readonly controller: SimulatedController;
  private readonly roles: ReplicaRoles;
  readonly failures: string[] = [];
  readonly counts = { crashes: 0, recordsLost: 0, produced: 0, followerErrors: 0 };
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
    this.controller = new SimulatedController(options.ids, this.world, prng, {
      canLead: (id) => this.replica(id).up && this.replica(id).reachable,
      metadataChanged: () => {
        for (const r of this.replicas) this.roles.reconcile(r);
      },
      note: (line) => this.note(line),
    });
    this.roles = new ReplicaRoles(this);
  }

  get metadata(): PartitionMetadata {
    return this.controller.metadata;
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

  fail(message: string): void {
    this.failures.push(message);
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
    this.roles.reconcile(replica);
  }

  /** Kills the incarnation at once: timers, pending fsyncs and served subscriptions go; unsynced records are lost. */
  crash(replica: SimulatedReplica): number {
    const inc = replica.current;
    if (inc === null) return 0;
    inc.alive = false;
    inc.scheduler.cancelAll();
    const lost = inc.log.loseUnsynced();
    void inc.transport.close();
    this.roles.crashed(inc);
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
    if (reachable) this.roles.reconcile(replica);
  }

  /** The controller replaces the leader `failed` (see `SimulatedController.failover`). */
  failover(failed: string, why: string): boolean {
    return this.controller.failover(failed, why);
  }

  // ---- the publishers --------------------------------------------------------------------

  /** Publishes `count` records (ALL acks asked) to `replica` if it runs a listening leader role (current or stale). */
  produce(replica: SimulatedReplica, count: number, tag: string): boolean {
    // Delimited, so that no value is a part of another (the ack check looks for it in the entry).
    const values = Array.from({ length: count }, () => `<${this.label}:${tag}:${this.produceSeq++}>`);
    if (!this.roles.publish(replica, values)) return false;
    this.counts.produced += count;
    return true;
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

  logger(id: string): Logger {
    const log = (level: string) => (obj: object, msg: string): void => {
      if (msg === 'follower stopped replicating') {
        this.counts.followerErrors++;
        this.failures.push(`${id}: ${msg}: ${errorText((obj as { err?: unknown }).err)}`);
      } else if (level === 'error' || (level === 'info' && msg.startsWith('truncating')) || msg.startsWith('metadata contact not confirmed')) {
        this.note(`${id} ${level}: ${msg} ${JSON.stringify(obj)}`);
      }
    };
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
    return logger;
  }
}
