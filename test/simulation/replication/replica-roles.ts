import { InMemoryMessageTransport } from '../../../src/adapters/outbound/memory/in-memory-message-transport';
import { NoMetrics } from '../../../src/adapters/outbound/metrics/no-metrics';
import { PartitionFollower } from '../../../src/application/partitions/partition-follower';
import { PartitionLeader } from '../../../src/application/partitions/partition-leader';
import { ReceivedTimestamps } from '../../../src/application/partitions/partition-runtime';
import type { AckLease } from '../../../src/application/ports/ack-lease.port';
import type { Clock } from '../../../src/application/ports/clock.port';
import type { Logger } from '../../../src/application/ports/logger.port';
import { AckError, AckPolicy } from '../../../src/application/ports/message-transport.port';
import type { AckMessage } from '../../../src/application/ports/message-transport.port';
import type { ReplicationTransport } from '../../../src/application/ports/replication-transport.port';
import type { PartitionRef } from '../../../src/domain/shared/ids';
import type { SimulatedScheduler } from '../../support/virtual-clock';
import { ReplicaDisk } from './crashable-partition-log';
import type { CrashablePartitionLog } from './crashable-partition-log';
import type { ObservedReplica, ReplicationInvariants } from './replication-invariants';
import type { PartitionMetadata, SimulatedController } from './simulated-controller';

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

export const REF: PartitionRef = { stream: 'sim', partition: 0 };
/** The stream's subject: partition 0 listens on it. */
const SUBJECT = 'sim';
/** Where the simulated publishers ask for their acks. */
const ACK_INBOX = 'sim.acks';
const BATCH_MESSAGES_MAX = 1024;
const NO_PARTITION_METRICS = new NoMetrics().partition();

interface LeaderRole {
  readonly kind: 'leader';
  readonly epoch: number;
  readonly leader: PartitionLeader;
  /** The publishers' side of NATS as this role sees it: publishes in, acks out. */
  readonly clients: InMemoryMessageTransport;
  /** From the end of `start` until the role is told to stop: publishes reach it. */
  listening: boolean;
}

interface FollowerRole {
  readonly kind: 'follower';
  readonly epoch: number;
  readonly follower: PartitionFollower;
}

/** One life of one replica; all of it dies in a crash. */
export interface Incarnation {
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

/**
 * The server's `RaftAckLease` as the simulation models it: held while the replica hears the
 * controller and runs no leader role the metadata has replaced (the read barrier after a silence
 * applies every leader change first, so a replaced leader is demoted before the lease holds again).
 * A leader holds back its acks while it lapses and, unless stopped meanwhile, sends them once it
 * holds again. Waiters are woken when the replica's role is brought in line with the metadata,
 * rather than by polling.
 */
class SimulatedAckLease implements AckLease {
  private waiters: (() => void)[] = [];

  constructor(readonly holds: () => boolean) {}

  whenHeld(): Promise<void> {
    if (this.holds()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wakeIfHeld(): void {
    if (this.waiters.length === 0 || !this.holds()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** What the roles need of the simulated world. */
export interface RoleWorld {
  readonly options: ReplicationOptions;
  /** The `Clock` port of every simulated server (the virtual clock). */
  readonly serverClock: Clock;
  readonly controller: SimulatedController;
  readonly invariants: ReplicationInvariants;
  logger(id: string): Logger;
  note(line: string): void;
  positions(): string;
  fail(message: string): void;
}

/**
 * What the `PartitionSupervisor` does for one partition, per replica: it runs the real
 * `PartitionLeader` (its ingest, commit and ack path, with `LeaderReplication` inside) or the real
 * `PartitionFollower` as the controller's metadata says, one role change at a time. Publishers
 * reach a leader through its own `InMemoryMessageTransport`, and the ALL acks it sends there are what
 * the checkers count as acknowledged.
 */
export class ReplicaRoles {
  private readonly leases = new WeakMap<Incarnation, SimulatedAckLease>();

  constructor(private readonly world: RoleWorld) {}

  /** Queues bringing the replica's role in line with the metadata (when it is up and hears the controller). */
  reconcile(replica: SimulatedReplica): void {
    const inc = replica.current;
    if (inc === null || !replica.reachable) return;
    inc.work = inc.work
      .then(() => this.reconcileNow(replica, inc))
      // What the lease depends on (reachability, the metadata, the role) changes only through here.
      .then(() => this.leases.get(inc)?.wakeIfHeld())
      .catch((error: unknown) => {
        if (inc.alive) this.world.fail(`role change on ${replica.id} failed: ${errorText(error)}`);
      });
  }

  /** Publishes `values` (ALL acks asked) to the replica's leader role if it listens (current or stale); false otherwise. */
  publish(replica: SimulatedReplica, values: readonly string[]): boolean {
    const role = replica.current?.role;
    if (role?.kind !== 'leader' || !role.listening) return false;
    for (const value of values) {
      role.clients.publishInbound(SUBJECT, {
        key: null,
        value: Buffer.from(value),
        headers: null,
        reply: '',
        ackInbox: ACK_INBOX,
        correlationId: value,
        ackPolicy: AckPolicy.ALL,
        expectedOffset: -1,
      });
    }
    return true;
  }

  /** The process died: nothing reaches its leader role any more (the role itself is not stopped: a dead process runs nothing). */
  crashed(inc: Incarnation): void {
    if (inc.role?.kind === 'leader') inc.role.listening = false;
  }

  private async reconcileNow(replica: SimulatedReplica, inc: Incarnation): Promise<void> {
    if (!inc.alive || !replica.reachable) return;
    const m = this.world.controller.metadata;
    const kind = m.leader === replica.id ? 'leader' : 'follower';
    const role = inc.role;
    if (role !== null && role.kind === kind && role.epoch === m.leaderEpoch) {
      if (role.kind === 'leader') role.leader.updateIsr(m.isr);
      return;
    }
    // Stop the old role, then start the new one (stop first: a follower's loop finishes its append).
    inc.role = null;
    if (role?.kind === 'leader') {
      role.listening = false;
      await role.leader.stop();
    } else if (role?.kind === 'follower') {
      await role.follower.stop();
    }
    if (!inc.alive) return;
    if (kind === 'leader') await this.startLeader(replica, inc, m);
    else this.startFollower(replica, inc, m.leaderEpoch);
  }

  private async startLeader(replica: SimulatedReplica, inc: Incarnation, m: PartitionMetadata): Promise<void> {
    const { invariants, controller } = this.world;
    const epoch = m.leaderEpoch;
    invariants.leaderStarted(replica.id, epoch);
    invariants.currentLeader = replica.id;
    const clients = new InMemoryMessageTransport();
    const inbox = await clients.openAckInbox(ACK_INBOX);
    inbox.acks$.subscribe((ack) => this.acked(replica, epoch, ack));
    const leader = this.createLeader(replica, inc, m, clients);
    const role: LeaderRole = { kind: 'leader', epoch, leader, clients, listening: false };
    inc.role = role;
    await leader.start();
    role.listening = inc.alive && inc.role === role;
    // The metadata may have moved on while it started (an ISR change): take the latest.
    if (controller.metadata.leaderEpoch === epoch) leader.updateIsr(controller.metadata.isr);
    this.world.note(`${replica.id} leads epoch ${epoch} (${this.world.positions()})`);
  }

  /** The leader as `PartitionSupervisor.startRole` builds it, over the incarnation's simulated ports. */
  private createLeader(replica: SimulatedReplica, inc: Incarnation, m: PartitionMetadata, clients: InMemoryMessageTransport): PartitionLeader {
    const { options, controller } = this.world;
    const epoch = m.leaderEpoch;
    return new PartitionLeader(
      {
        stream: REF.stream,
        partition: REF.partition,
        subject: SUBJECT,
        group: '',
        leaderEpoch: epoch,
        batchMaxMessages: BATCH_MESSAGES_MAX,
        replicationMaxBytes: options.replyBytesMax,
        concurrencyControl: false,
        replicated: {
          self: replica.id,
          replicas: options.ids,
          isr: m.isr,
          minIsr: options.minIsr,
          maxLagTimeMs: options.maxLagTimeMs,
          fetchWaitMs: options.fetchWaitMs,
        },
      },
      {
        log: inc.log,
        transport: clients,
        clock: this.world.serverClock,
        scheduler: inc.scheduler,
        logger: this.world.logger(replica.id),
        received: new ReceivedTimestamps(),
        metrics: NO_PARTITION_METRICS,
        replication: inc.transport,
        requestIsrChange: (type, id) =>
          controller.requestIsrChange({ type, replica: id, leader: replica.id, leaderEpoch: epoch }, () => inc.alive && replica.reachable),
        ackLease: this.leaseOf(replica, inc),
        sealer: null,
      },
    );
  }

  /** The incarnation's ack lease, created on first use. */
  private leaseOf(replica: SimulatedReplica, inc: Incarnation): SimulatedAckLease {
    let lease = this.leases.get(inc);
    if (lease === undefined) {
      lease = new SimulatedAckLease(() => {
        const role = inc.role;
        const replaced = role?.kind === 'leader' && !this.world.controller.leads(replica.id, role.epoch);
        return inc.alive && replica.reachable && !replaced;
      });
      this.leases.set(inc, lease);
    }
    return lease;
  }

  /** An ack the leader of `epoch` on `replica` sent: an ALL ack is what the checkers hold it to. */
  private acked(replica: SimulatedReplica, epoch: number, ack: AckMessage): void {
    if (ack.ackError !== AckError.OK) return this.world.fail(`${replica.id}@${epoch} answered ${ack.correlationId} with error ${AckError[ack.ackError]}`);
    if (ack.ackPolicy !== AckPolicy.ALL) return;
    const entry = replica.disk.entryAt(ack.offset);
    // The acked offset must hold the message the ack answers (values are unique and delimited).
    if (entry !== undefined && !entry.includes(ack.correlationId)) {
      return this.world.fail(`${replica.id}@${epoch} acked ${ack.correlationId} at offset ${ack.offset}, which holds another record`);
    }
    this.world.invariants.acked(replica.id, ack.offset, entry, epoch);
  }

  private startFollower(replica: SimulatedReplica, inc: Incarnation, epoch: number): void {
    const { invariants, controller, options } = this.world;
    if (invariants.currentLeader === replica.id) invariants.currentLeader = null;
    const follower = new PartitionFollower(
      // The simulated controller replaces leaders by its own rules: reports are not modelled here.
      { self: replica.id, ref: REF, leaderEpoch: epoch, fetchTimeoutMs: options.fetchTimeoutMs, leaderTimeoutMs: Number.POSITIVE_INFINITY },
      {
        log: inc.log,
        transport: inc.transport,
        scheduler: inc.scheduler,
        clock: this.world.serverClock,
        logger: this.world.logger(replica.id),
        inIsr: () => controller.metadata.isr.includes(replica.id),
        reportLeader: async () => true,
      },
    );
    inc.role = { kind: 'follower', epoch, follower };
    follower.start();
  }
}

export const errorText = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
