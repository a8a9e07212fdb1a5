import type { FetchConsumerGroupAssignmentsResponse, JoinConsumerGroupResponse, PartitionAssignment } from '../protocol/api-types';
import type { CursorClient } from './durable-consumer';
import { StartPosition, type ReceivedMessage } from './types';

/** What a group consumer needs from the client (`LiftbridgeClient` has it). */
export interface GroupClient extends CursorClient {
  joinConsumerGroup(groupId: string, consumerId: string, streams: readonly string[]): Promise<JoinConsumerGroupResponse>;
  /** Asks the coordinator (a broker id) for this member's assignments at `epoch`. */
  fetchConsumerGroupAssignments(coordinator: string, groupId: string, consumerId: string, epoch: bigint): Promise<FetchConsumerGroupAssignmentsResponse>;
  /** The group's coordinator and epoch as the metadata says, or null when the group is unknown. */
  fetchGroupMetadata(groupId: string): Promise<{ readonly coordinator: string; readonly epoch: bigint } | null>;
  reportConsumerGroupCoordinator(groupId: string, consumerId: string, coordinator: string, epoch: bigint): Promise<void>;
  leaveConsumerGroup(groupId: string, consumerId: string): Promise<void>;
}

/** Timers and the clock, replaceable in tests. */
export interface GroupTimers {
  after(ms: number, fn: () => void): { cancel(): void };
  nowMs(): number;
}

/**
 * Not unref'd: a running member keeps the process alive, as an open subscription does, also while
 * nothing is assigned to it (a standby member, or between a failed poll and the next). Its timers
 * stop when it is closed or has failed.
 */
const realTimers: GroupTimers = {
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
  nowMs: () => Date.now(),
};

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly consumerId: string;
  readonly streams: readonly string[];
  /** Where a partition starts when the group's cursor was never set; 'none' makes that an error. Default NEW_ONLY (go-liftbridge's). */
  readonly autoOffset?: StartPosition.EARLIEST | StartPosition.LATEST | StartPosition.NEW_ONLY | 'none';
  /** How often the delivered positions are checkpointed (default 5000 ms, as go-liftbridge's AutoCheckpoint). */
  readonly checkpointEveryMs?: number;
  /**
   * How often the member asks the coordinator for its assignments (the heartbeat, and how it learns
   * that partitions moved), given the servers' consumer timeout. Default `groupPollMs`: at most
   * 500 ms, so that a dead member's partitions are read again within the consumer timeout + 1 s
   * (go-liftbridge's FetchAssignmentsInterval, which defaults to 0.4 x the timeout: 6 s).
   */
  readonly fetchAssignmentsEveryMs?: (consumerTimeoutMs: number) => number;
}

/** After a failed assignment poll, the next one comes this much later (go-liftbridge). */
export const GROUP_RETRY_MS = 2000;
/** Assignments are polled every this fraction of the consumer timeout (go-liftbridge), and at least every `GROUP_POLL_MAX_MS`. */
export const GROUP_POLL_FRACTION = 0.4;
export const GROUP_POLL_MAX_MS = 500;

/**
 * The default assignment poll: the coordinator drops a dead member one consumer timeout after its
 * last poll, and the others see that at their next poll, so the poll interval is what a failover
 * takes beyond the timeout (docs/consumers.md "Liveness"). One small unary call per member every
 * 500 ms is cheap; go-liftbridge's 0.4 x timeout (6 s) would make it 15 s + 6 s.
 */
export const groupPollMs = (consumerTimeoutMs: number): number => Math.min(GROUP_POLL_FRACTION * consumerTimeoutMs, GROUP_POLL_MAX_MS);

interface Owned {
  readonly epoch: bigint;
  readonly subscription: AsyncIterable<ReceivedMessage> & { close(): void };
  /** When this member subscribed (its clock). */
  readonly acquiredAtMs: number;
  delivered: bigint | null;
  checkpointed: bigint | null;
  /** Closed by this member (it reconciled, or closes): its last position may still be written. */
  closedHere: boolean;
  /** Ended on its own (replaced by a newer epoch's subscriber, or broken): nothing more is written for it. */
  ended: boolean;
}

/**
 * A partition's periodic checkpoint waits this long after the member subscribed to it, so that a
 * checkpoint its previous owner sent just before the handover lands first (docs/consumers.md
 * "Checkpoints across a rebalance").
 */
export const HANDOVER_GRACE_MS = 1000;

/** A message read from a subscription, not yet handed out; `from` is the subscription it came from. */
interface Pending {
  readonly message: ReceivedMessage;
  readonly from: Owned;
}

/** The cursor id a group keeps its positions under (go-liftbridge's `__group:<groupId>`). */
export const groupCursorId = (groupId: string): string => `__group:${groupId}`;

const key = (stream: string, partition: number): string => `${stream}\u0000${partition}`;

/**
 * A member of a consumer group, compatible with go-liftbridge v2's `Consumer` (docs/consumers.md
 * "Consumer groups"): it joins, polls its assignments from the coordinator, subscribes to the
 * partitions assigned to it at its group epoch (from the group's cursor + 1), checkpoints what it
 * delivered, reports a coordinator that stopped answering, and leaves on close. One async iterator
 * over all its partitions; each message says its stream and partition.
 */
export class GroupConsumer implements AsyncIterable<ReceivedMessage> {
  private coordinator = '';
  private epoch = 0n;
  private consumerTimeoutMs = 15_000;
  private coordinatorTimeoutMs = 15_000;
  private lastContactMs = 0;
  private readonly owned = new Map<string, Owned>();
  private readonly queue: Pending[] = [];
  /** A `next()` waiting for a message; null wakes it to end (closed or failed). */
  private waiting: ((pending: Pending | null) => void) | null = null;
  private failure: Error | null = null;
  private closed = false;
  private poll: { cancel(): void } | null = null;
  private checkpoints: { cancel(): void } | null = null;
  private started: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly client: GroupClient,
    private readonly options: GroupConsumerOptions,
    private readonly timers: GroupTimers = realTimers,
  ) {}

  /** Joins the group and starts polling; iterating starts it too. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const joined = await this.client.joinConsumerGroup(this.options.groupId, this.options.consumerId, this.options.streams);
      this.coordinator = joined.coordinator;
      this.epoch = joined.epoch;
      this.consumerTimeoutMs = Number(joined.consumerTimeout / 1_000_000n);
      this.coordinatorTimeoutMs = Number(joined.coordinatorTimeout / 1_000_000n);
      this.lastContactMs = this.timers.nowMs();
      this.scheduleCheckpoints();
      await this.pollOnce();
    })();
    return this.started;
  }

  /** The partitions this member reads now, as `stream/partition`. */
  get assigned(): string[] {
    return [...this.owned.keys()].map((k) => k.replace('\u0000', '/')).sort();
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return {
      next: async () => {
        await this.start();
        for (;;) {
          const queued = this.queue.shift();
          if (queued !== undefined) {
            if (this.isCurrent(queued)) return this.deliver(queued);
            continue;
          }
          if (this.failure) throw this.failure;
          if (this.closed) return this.ended();
          const pending = await new Promise<Pending | null>((resolve) => (this.waiting = resolve));
          if (pending === null) {
            if (this.failure) throw this.failure;
            return this.ended();
          }
          if (this.isCurrent(pending)) return this.deliver(pending);
        }
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** Stops reading, checkpoints what was delivered, and leaves the group; every call waits for all of it. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** The end of the iteration comes after the checkpoint and the leave, so a script may exit right after its loop. */
  private async ended(): Promise<IteratorResult<ReceivedMessage>> {
    await this.closing;
    return { done: true, value: undefined };
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.poll?.cancel();
    this.checkpoints?.cancel();
    for (const owned of this.owned.values()) {
      owned.closedHere = true;
      owned.subscription.close();
    }
    await this.checkpoint();
    this.owned.clear();
    this.wake(null);
    await this.client.leaveConsumerGroup(this.options.groupId, this.options.consumerId).catch(() => undefined);
  }

  /**
   * Whether `pending` came from the subscription this member reads its partition with now. One from
   * a subscription closed since (the partition moved, or was subscribed again at a new epoch from
   * the checkpoint) is dropped: it was not handed out, so it is past the checkpoint and is read
   * again by the partition's current subscription, in order.
   */
  private isCurrent(pending: Pending): boolean {
    return this.owned.get(key(pending.message.stream, pending.message.partition)) === pending.from;
  }

  private deliver(pending: Pending): IteratorResult<ReceivedMessage> {
    pending.from.delivered = pending.message.offset;
    return { done: false, value: pending.message };
  }

  private async pollOnce(): Promise<void> {
    if (this.closed || this.failure !== null) return;
    let nextMs = Math.max(1, Math.round((this.options.fetchAssignmentsEveryMs ?? groupPollMs)(this.consumerTimeoutMs)));
    try {
      const answer = await this.client.fetchConsumerGroupAssignments(this.coordinator, this.options.groupId, this.options.consumerId, this.epoch);
      this.lastContactMs = this.timers.nowMs();
      this.epoch = answer.epoch;
      await this.reconcile(answer.assignments);
    } catch (error) {
      if (this.failure !== null) return;
      // Moved on (a new epoch or coordinator, or joined again): ask again at once, else after the retry pause.
      const movedOn = await this.afterFailedPoll(error).catch(() => false);
      nextMs = movedOn ? 1 : GROUP_RETRY_MS;
    }
    if (!this.closed && this.failure === null) this.poll = this.timers.after(nextMs, () => void this.pollOnce());
  }

  /**
   * After a failed poll: a member the coordinator dropped (it stayed silent past the consumer
   * timeout) or whose group is gone joins again; otherwise the coordinator or the epoch may have
   * moved, and is learnt from the metadata; if neither moved and the coordinator has been silent
   * too long, it is reported. True when there is something new to poll with.
   */
  private async afterFailedPoll(error: unknown): Promise<boolean> {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('not a member of the consumer group') || message.includes('consumer group does not exist')) {
      const joined = await this.client.joinConsumerGroup(this.options.groupId, this.options.consumerId, this.options.streams);
      this.coordinator = joined.coordinator;
      this.epoch = joined.epoch;
      return true;
    }
    const current = await this.client.fetchGroupMetadata(this.options.groupId);
    if (current !== null && (current.coordinator !== this.coordinator || current.epoch !== this.epoch)) {
      this.coordinator = current.coordinator;
      this.epoch = current.epoch;
      return true;
    }
    if (this.timers.nowMs() - this.lastContactMs > this.coordinatorTimeoutMs) {
      await this.client.reportConsumerGroupCoordinator(this.options.groupId, this.options.consumerId, this.coordinator, this.epoch);
    }
    return false;
  }

  /** Closes what is no longer assigned at this epoch; subscribes to what is newly assigned, from the group's cursor + 1. */
  private async reconcile(assignments: readonly PartitionAssignment[]): Promise<void> {
    const wanted = new Set<string>();
    for (const a of assignments) for (const p of a.partitions) wanted.add(key(a.stream, p));
    for (const [k, owned] of this.owned) {
      const kept = wanted.has(k);
      if (kept && owned.epoch === this.epoch && !owned.ended) continue;
      // A partition that moved to another member is not checkpointed on the way out, and a
      // checkpoint of it still in flight is not retried: the new owner may have checkpointed it
      // already, and a late write of ours would move the group's cursor back. What we delivered
      // since our last checkpoint is read again by the new owner (at-least-once). One we keep,
      // subscribed again at the new epoch, is checkpointed.
      owned.closedHere = true;
      if (!kept) owned.ended = true;
      owned.subscription.close();
      // Kept: the coordinator just confirmed it is ours at this epoch, so our position may be
      // written even if its subscription ended (a leader change): the new one starts after it.
      if (kept) await this.checkpointOne(k, owned, true);
      this.owned.delete(k);
    }
    for (const a of assignments) {
      for (const partition of a.partitions) {
        if (this.closed || this.failure !== null) return;
        if (this.owned.has(key(a.stream, partition))) continue;
        await this.subscribe(a.stream, partition);
      }
    }
  }

  private async subscribe(stream: string, partition: number): Promise<void> {
    const cursor = await this.client.fetchCursor({ id: groupCursorId(this.options.groupId), stream, partition });
    const auto = this.options.autoOffset ?? StartPosition.NEW_ONLY;
    if (cursor < 0n && auto === 'none') {
      this.fail(new Error(`no cursor for ${stream}/${partition} in group ${this.options.groupId}, and autoOffset is 'none'`));
      return;
    }
    const start = cursor >= 0n ? { startPosition: StartPosition.OFFSET, startOffset: cursor + 1n } : { startPosition: auto as StartPosition };
    const subscription = this.client.subscribe(stream, {
      partition,
      ...start,
      consumer: { groupId: this.options.groupId, groupEpoch: this.epoch, consumerId: this.options.consumerId },
    });
    const owned: Owned = {
      epoch: this.epoch,
      subscription,
      acquiredAtMs: this.timers.nowMs(),
      delivered: null,
      checkpointed: cursor >= 0n ? cursor : null,
      closedHere: false,
      ended: false,
    };
    this.owned.set(key(stream, partition), owned);
    void this.pump(owned);
  }

  private async pump(owned: Owned): Promise<void> {
    try {
      for await (const message of owned.subscription) {
        if (this.waiting) this.wake({ message, from: owned });
        else this.queue.push({ message, from: owned });
      }
    } catch {
      // A subscription replaced by a newer epoch, or a leader change: the next poll reconciles.
    }
    // Not closed by us: another member may own the partition now (a newer epoch replaced us), so
    // our position must not be written over its; the next poll subscribes again if it is still ours.
    if (!owned.closedHere) owned.ended = true;
  }

  private scheduleCheckpoints(): void {
    const every = this.options.checkpointEveryMs ?? 5000;
    if (every <= 0 || this.closed || this.failure !== null) return;
    this.checkpoints = this.timers.after(every, () => {
      void this.periodicCheckpoint().finally(() => this.scheduleCheckpoints());
    });
  }

  /** Stores the last delivered offset of every partition that moved since its last checkpoint (go-liftbridge `Checkpoint`). */
  async checkpoint(): Promise<void> {
    for (const [k, owned] of this.owned) await this.checkpointOne(k, owned);
  }

  /**
   * The timer's checkpoint: not for a partition subscribed to less than `HANDOVER_GRACE_MS` ago,
   * and none at all while this member may have been dropped from the group (no answer from the
   * coordinator for a consumer timeout: its partitions may be another member's by now).
   */
  private async periodicCheckpoint(): Promise<void> {
    const now = this.timers.nowMs();
    if (now - this.lastContactMs > this.consumerTimeoutMs) return;
    for (const [k, owned] of this.owned) if (now - owned.acquiredAtMs >= HANDOVER_GRACE_MS) await this.checkpointOne(k, owned);
  }

  /** `confirmed`: the coordinator has just assigned the partition to us at the current epoch. */
  private async checkpointOne(k: string, owned: Owned, confirmed = false): Promise<void> {
    const delivered = owned.delivered;
    if (delivered === null || delivered === owned.checkpointed || (owned.ended && !confirmed)) return;
    const [stream, partition] = k.split('\u0000') as [string, string];
    // A retry is made only while the partition is still ours (or we are closing it ourselves).
    const attemptIf = (): boolean => (confirmed || !owned.ended) && (owned.closedHere || this.owned.get(k) === owned);
    try {
      await this.client.setCursor({ id: groupCursorId(this.options.groupId), stream, partition: Number(partition), offset: delivered }, { attemptIf });
      owned.checkpointed = delivered;
    } catch {
      // Tried again at the next checkpoint.
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    this.wake(null);
  }

  private wake(pending: Pending | null): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(pending);
  }
}
