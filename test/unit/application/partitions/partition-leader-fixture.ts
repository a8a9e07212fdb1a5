import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import type { AutoPauseSettings } from '../../../../src/application/partitions/auto-pause';
import { PartitionLeader } from '../../../../src/application/partitions/partition-leader';
import { ReceivedTimestamps } from '../../../../src/application/partitions/partition-runtime';
import type { AckLease } from '../../../../src/application/ports/ack-lease.port';
import { AckMessage, AckPolicy, InboundMessage } from '../../../../src/application/ports/message-transport.port';
import { NoMetrics } from '../../../../src/adapters/outbound/metrics/no-metrics';
import type { PartitionMetrics } from '../../../../src/application/ports/metrics.port';
import type { PartitionLog, PendingAppend } from '../../../../src/application/ports/partition-log.port';
import type { EpochEnd, ReplicationReply, ReplicationTransport } from '../../../../src/application/ports/replication-transport.port';
import { capturingLogger, LoggedLine } from '../../../support/capturing-logger';
import { keepEverythingLogOptions } from '../../../support/partition-log-options';
import { VirtualTime } from '../../../support/virtual-time';

/**
 * A `PartitionLeader` on virtual time with in-memory NATS and replication: the test publishes as
 * NATS clients do, plays the followers by sending their fetches itself, and answers the leader's
 * ISR change requests. Leader is server "a" of stream "orders", partition 0.
 */

export const REF = { stream: 'orders', partition: 0 };
export const SUBJECT = 'orders';
export const ACK_INBOX = 'client.acks';

/** A message as a producer publishes it on the partition's subject, asking for its ack on ACK_INBOX. */
export const inboundMessage = (id: string, ackPolicy: AckPolicy) => ({
  key: null,
  value: Buffer.from(id),
  headers: null,
  reply: '',
  ackInbox: ACK_INBOX,
  correlationId: id,
  ackPolicy,
  expectedOffset: -1,
});
/** Long enough that a request left unanswered never times out within a test, unless it says so. */
const FETCH_TIMEOUT_MS = 60_000;

const noMetrics: PartitionMetrics = new NoMetrics().partition();

export interface IsrRequest {
  readonly type: 'ShrinkIsr' | 'ExpandIsr';
  readonly replica: string;
  /** Virtual ms since the test began. */
  readonly atMs: number;
}

export interface LeaderSetup {
  /** Replicas besides the leader "a"; none = a single-replica partition. */
  readonly followers?: readonly string[];
  /** The ISR the metadata records at start; every replica by default. */
  readonly isr?: readonly string[];
  readonly minIsr?: number;
  readonly leaderEpoch?: number;
  readonly maxLagTimeMs?: number;
  readonly fetchWaitMs?: number;
  readonly concurrencyControl?: boolean;
  readonly ackLease?: AckLease;
  /** How the controller answers an ISR change; recorded (true) by default. */
  readonly isrChangeAnswer?: (request: IsrRequest) => Promise<boolean>;
  /** Records already in the log, by epoch, before the leader starts (a previous leader's). */
  readonly before?: (log: PartitionLog) => Promise<void>;
  /** Appends become durable only when the test says so (`makeDurable`). */
  readonly heldDurability?: boolean;
  /** The leader is stopped while it is still starting (replaced at once). */
  readonly stopDuringStart?: boolean;
  /** The partition auto-pauses (docs/consumers.md "Auto-pause"). */
  readonly autoPause?: AutoPauseSettings;
  /** How the controller answers a pause request; recorded (true) by default. */
  readonly pauseAnswer?: () => Promise<boolean>;
}

/** A request the test sent and may not have an answer to yet. */
export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

function track<T>(promise: Promise<T>): Tracked<T> {
  const state: { settled: boolean; value: T | undefined; error: unknown } = { settled: false, value: undefined, error: undefined };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/**
 * A log whose appends become durable only when the test releases them, as a slow fsync does:
 * `durableOffset` and the `durable` promises follow `makeDurable`, everything else is the log's.
 */
class HeldDurability {
  durableOffset: number;
  private held: { lastOffset: number; release: () => void }[] = [];
  readonly log: PartitionLog;

  constructor(inner: PartitionLog) {
    this.durableOffset = inner.durableOffset;
    const self = this;
    this.log = new Proxy(inner, {
      get(target, property) {
        if (property === 'durableOffset') return self.durableOffset;
        if (property === 'append') return (...args: Parameters<PartitionLog['append']>): PendingAppend => self.hold(target.append(...args));
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private hold(pending: PendingAppend): PendingAppend {
    const durable = new Promise<void>((release) => this.held.push({ lastOffset: pending.lastOffset, release }));
    return { ...pending, durable };
  }

  /** Every append made so far is on disk now. */
  release(): void {
    for (const h of this.held.splice(0)) {
      this.durableOffset = Math.max(this.durableOffset, h.lastOffset);
      h.release();
    }
  }
}

export interface LeaderHarness {
  readonly time: VirtualTime;
  readonly hub: InMemoryReplicationHub;
  readonly transport: InMemoryMessageTransport;
  readonly log: PartitionLog;
  readonly leader: PartitionLeader;
  readonly acks: AckMessage[];
  readonly isrRequests: IsrRequest[];
  readonly lines: LoggedLine[];
  /** Virtual ms (since the test began) of every pause request the leader made. */
  readonly pauseRequests: number[];
  /** Subscriptions of the partition this server serves: the test sets it. */
  readonly subscriptions: { count: number };
  /** Publishes `id` (its correlation id and value) on the partition subject, as a NATS client does. */
  publish(id: string, ackPolicy?: AckPolicy, extra?: Partial<InboundMessage>): void;
  /** The ack for `id`, if one arrived; several acks for one id fail the test. */
  ackOf(id: string): AckMessage | undefined;
  /** [id, offset, ackError] of every ack so far, in arrival order. */
  ackSummary(): [string, number, number][];
  /** Follower `replica` fetches as the real one does: it has everything up to `offset` durably. */
  fetch(replica: string, offset: number, leaderEpoch?: number): Tracked<ReplicationReply>;
  /** A follower asks where the leader's `leaderEpoch` ends (docs/replication.md "Truncation"), following `currentLeaderEpoch`. */
  epochEnd(replica: string, leaderEpoch: number, currentLeaderEpoch: number): Tracked<EpochEnd>;
  /** Held appends become durable (with `heldDurability`). */
  makeDurable(): void;
  /** Lets the current turn's publishes be appended and every resulting promise settle. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLeader(setup: LeaderSetup = {}): Promise<LeaderHarness> {
  const time = new VirtualTime();
  const hub = new InMemoryReplicationHub({ scheduler: time });
  const transport = new InMemoryMessageTransport();
  const inner = await new InMemoryPartitionLogStore().open(REF, keepEverythingLogOptions(1 << 26));
  await setup.before?.(inner);
  const held = setup.heldDurability ? new HeldDurability(inner) : null;
  const log = held?.log ?? inner;
  const { logger, lines } = capturingLogger();
  const followers = setup.followers ?? [];
  const replicas = ['a', ...followers];
  const isrRequests: IsrRequest[] = [];
  const answer = setup.isrChangeAnswer ?? (async () => true);
  const leaderEpoch = setup.leaderEpoch ?? 1;
  const pauseRequests: number[] = [];
  const subscriptions = { count: 0 };
  const pauseAnswer = setup.pauseAnswer ?? (async () => true);
  const leader = new PartitionLeader(
    {
      stream: REF.stream,
      partition: REF.partition,
      subject: SUBJECT,
      group: '',
      leaderEpoch,
      batchMaxMessages: 1024,
      replicationMaxBytes: 1024 * 1024,
      concurrencyControl: setup.concurrencyControl ?? false,
      ...(setup.autoPause ? { autoPause: setup.autoPause } : {}),
      ...(followers.length > 0
        ? {
            replicated: {
              self: 'a',
              replicas,
              isr: setup.isr ?? replicas,
              minIsr: setup.minIsr ?? 1,
              maxLagTimeMs: setup.maxLagTimeMs ?? 10_000,
              fetchWaitMs: setup.fetchWaitMs ?? 500,
            },
          }
        : {}),
    },
    {
      log,
      transport,
      clock: time,
      scheduler: time,
      logger,
      received: new ReceivedTimestamps(),
      metrics: noMetrics,
      replication: hub.connect('a'),
      requestIsrChange: (type, replica) => {
        const request = { type, replica, atMs: time.elapsedMs };
        isrRequests.push(request);
        return answer(request);
      },
      ...(setup.ackLease ? { ackLease: setup.ackLease } : {}),
      autoPause: {
        requestPause: () => {
          pauseRequests.push(time.elapsedMs);
          return pauseAnswer();
        },
        activeSubscriptions: () => subscriptions.count,
      },
    },
  );
  if (setup.stopDuringStart) {
    const starting = leader.start();
    await leader.stop();
    await starting;
  } else {
    await leader.start();
  }
  const acks: AckMessage[] = [];
  (await transport.openAckInbox(ACK_INBOX)).acks$.subscribe((ack) => acks.push(ack));
  const followerTransports = new Map<string, ReplicationTransport>();
  const transportOf = (replica: string): ReplicationTransport => {
    let t = followerTransports.get(replica);
    if (t === undefined) followerTransports.set(replica, (t = hub.connect(replica)));
    return t;
  };
  return {
    time,
    hub,
    transport,
    log,
    leader,
    acks,
    isrRequests,
    lines,
    pauseRequests,
    subscriptions,
    publish: (id, ackPolicy = AckPolicy.LEADER, extra = {}) =>
      transport.publishInbound(SUBJECT, { ...inboundMessage(id, ackPolicy), ...extra }),
    ackOf: (id) => {
      const found = acks.filter((a) => a.correlationId === id);
      if (found.length > 1) throw new Error(`${found.length} acks for ${id}`);
      return found[0];
    },
    ackSummary: () => acks.map((a) => [a.correlationId, a.offset, a.ackError]),
    fetch: (replica, offset, epoch = leaderEpoch) => track(transportOf(replica).fetch(REF, { replicaId: replica, offset, leaderEpoch: epoch }, FETCH_TIMEOUT_MS)),
    epochEnd: (replica, epoch, current) => track(transportOf(replica).leaderEpochEndOffset(REF, { leaderEpoch: epoch, currentLeaderEpoch: current }, FETCH_TIMEOUT_MS)),
    makeDurable: () => {
      if (held === null) throw new Error('the harness was not set up with heldDurability');
      held.release();
    },
    settle: () => time.advance(1),
    stop: () => leader.stop(),
  };
}

/** Offsets of the records a reply carries, as [first, last], or null. */
export const carried = (reply: ReplicationReply | undefined): [number, number] | null =>
  reply?.records ? [reply.records.firstOffset, reply.records.lastOffset] : null;
