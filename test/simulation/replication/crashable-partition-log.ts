import { InMemoryPartitionLog } from '../../../src/adapters/outbound/memory/in-memory-partition-log';
import type { InMemoryPartitionData } from '../../../src/adapters/outbound/memory/in-memory-partition-log';
import { readEntryLeaderEpoch } from '../../../src/adapters/codec/message-set-layout';
import { LogClosedError } from '../../../src/application/ports/partition-log.errors';
import type {
  LogClosedReason,
  NewRecord,
  PartitionLog,
  PartitionLogOptions,
  PendingAppend,
  RecordBatch,
  RetentionOutcome,
} from '../../../src/application/ports/partition-log.port';
import type { PartitionRef } from '../../../src/domain/shared/ids';
import { keepEverythingLogOptions } from '../../support/partition-log-options';
import type { SimulatedScheduler } from '../../support/virtual-clock';

/** Segments never roll by age and nothing is retained away: the checkers compare whole logs. */
export const SIM_LOG_OPTIONS: PartitionLogOptions = keepEverythingLogOptions(4096);

/** Sees what a log does that the checkers must judge at once (not only after the instant). */
export interface LogObserver {
  /** Entries of a replicated batch arrived on `replica` (checked against what each epoch's leader wrote). */
  replicated(replica: string, batch: RecordBatch): void;
  /** Records the leader of `epoch` wrote on `replica` became durable there. */
  leaderDurable(replica: string, epoch: number, firstOffset: number, lastOffset: number): void;
  /** `replica` cut its log from `offset` (a follower's truncation, not a crash). */
  truncated(replica: string, offset: number, highWatermark: number): void;
}

/**
 * What survives a crash of one replica: the `InMemoryPartitionData` (segments, high-watermark
 * checkpoint, leader-epoch checkpoint) of the real in-memory adapter. While a replica is up its
 * log writes here at once — this is the page cache — and `CrashablePartitionLog` knows which prefix
 * was fsynced; a crash cuts everything past that prefix (`loseUnsynced`).
 */
export class ReplicaDisk {
  readonly data: InMemoryPartitionData = { segments: [], highWatermark: -1, epochs: [] };

  /** The stored entry (header + message bytes) at `offset`, or undefined. Synchronous, for the checkers. */
  entryAt(offset: number): Buffer | undefined {
    const segments = this.data.segments;
    for (let i = segments.length - 1; i >= 0; i--) {
      const s = segments[i]!;
      if (s.baseOffset <= offset) return s.entries[offset - s.baseOffset];
    }
    return undefined;
  }

  get newestOffset(): number {
    const active = this.data.segments.at(-1);
    return active === undefined ? -1 : active.baseOffset + active.entries.length - 1;
  }
}

interface PendingSync {
  /** Everything up to here is durable when this fsync completes (lowered by a truncation meanwhile). */
  target: number;
}

/**
 * The `PartitionLog` port for one incarnation of one replica: the real `InMemoryPartitionLog` over
 * the replica's `ReplicaDisk`, plus fsync latency on the virtual clock. An append (leader) or a
 * replicated batch (follower) is written at once but becomes durable — `durableOffset` moves and the
 * promise resolves — only when its fsync timer fires (fsyncs complete in order, like one file's).
 * A crash cancels the incarnation's timers, so pending fsyncs never complete and never settle, and
 * `loseUnsynced` cuts the disk back to the durable prefix: unsynced writes do not survive.
 * Checkpoints (high watermark, leader epochs) are durable at once, as the adapters' atomic replace.
 */
export class CrashablePartitionLog implements PartitionLog {
  private readonly inner: InMemoryPartitionLog;
  private durable: number;
  private lastSyncDueMs = 0;
  private readonly pending = new Set<PendingSync>();
  private crashed = false;

  constructor(
    readonly ref: PartitionRef,
    private readonly replica: string,
    disk: ReplicaDisk,
    private readonly scheduler: SimulatedScheduler,
    private readonly nowMs: () => number,
    private readonly syncLatencyMs: () => number,
    private readonly observer: LogObserver,
  ) {
    this.inner = new InMemoryPartitionLog(ref, SIM_LOG_OPTIONS, disk.data, () => undefined);
    // Whatever is on the disk at start survived the crash: it is durable.
    this.durable = this.inner.newestOffset;
  }

  get oldestOffset(): number {
    return this.inner.oldestOffset;
  }
  get newestOffset(): number {
    return this.inner.newestOffset;
  }
  get durableOffset(): number {
    return Math.min(this.durable, this.inner.newestOffset);
  }
  get highWatermark(): number {
    return this.inner.highWatermark;
  }
  get isReadonly(): boolean {
    return this.inner.isReadonly;
  }
  get closedReason(): LogClosedReason | null {
    return this.crashed ? 'closed' : this.inner.closedReason;
  }
  get damaged(): PartitionLog['damaged'] {
    return this.inner.damaged;
  }
  repairDamaged(batch: RecordBatch): Promise<number> {
    this.checkUsable();
    return this.inner.repairDamaged(batch);
  }
  get storageFailure(): null {
    return null;
  }
  get lastLeaderEpoch(): number {
    return this.inner.lastLeaderEpoch;
  }
  /** An fsync was issued and has not completed: a crash now loses data. */
  get syncPending(): boolean {
    return this.pending.size > 0;
  }

  append(records: readonly NewRecord[], timestampNs: bigint, leaderEpoch: number): PendingAppend {
    this.checkUsable();
    const appended = this.inner.append(records, timestampNs, leaderEpoch);
    const durable = this.sync(appended.lastOffset).then(() =>
      this.observer.leaderDurable(this.replica, leaderEpoch, appended.firstOffset, appended.lastOffset),
    );
    return { firstOffset: appended.firstOffset, lastOffset: appended.lastOffset, durable };
  }

  async appendReplicated(batch: RecordBatch): Promise<void> {
    this.checkUsable();
    this.observer.replicated(this.replica, batch);
    await this.inner.appendReplicated(batch);
    await this.sync(batch.lastOffset);
  }

  read(fromOffset: number, maxOffset: number, maxBytes: number): Promise<RecordBatch | null> {
    this.checkUsable();
    return this.inner.read(fromOffset, maxOffset, maxBytes);
  }

  earliestOffsetAtOrAfter(timestampNs: bigint): number {
    this.checkUsable();
    return this.inner.earliestOffsetAtOrAfter(timestampNs);
  }

  latestOffsetAtOrBefore(timestampNs: bigint): number | null {
    this.checkUsable();
    return this.inner.latestOffsetAtOrBefore(timestampNs);
  }

  setHighWatermark(offset: number): void {
    this.checkUsable();
    // The port's contract, on the durable offset the in-memory adapter cannot see.
    if (offset > this.durableOffset) throw new Error(`${this.replica}: high watermark ${offset} set past the durable offset ${this.durableOffset}`);
    this.inner.setHighWatermark(offset);
  }

  waitForCommit(afterOffset: number, signal: AbortSignal): Promise<void> {
    return this.inner.waitForCommit(afterOffset, signal);
  }

  setReadonly(readonly: boolean): void {
    this.checkUsable();
    this.inner.setReadonly(readonly);
  }

  beginLeaderEpoch(epoch: number): void {
    this.checkUsable();
    this.inner.beginLeaderEpoch(epoch);
  }

  leaderEpochAtOrBefore(epoch: number): number {
    return this.inner.leaderEpochAtOrBefore(epoch);
  }

  endOffsetForLeaderEpoch(epoch: number): number {
    this.checkUsable();
    return this.inner.endOffsetForLeaderEpoch(epoch);
  }

  async truncateFrom(offset: number): Promise<void> {
    this.checkUsable();
    const hw = this.inner.highWatermark;
    await this.inner.truncateFrom(offset);
    // A truncation is synced before it returns; an fsync issued earlier cannot make newer writes at these offsets durable.
    this.durable = Math.min(this.durable, offset - 1);
    for (const sync of this.pending) sync.target = Math.min(sync.target, offset - 1);
    this.observer.truncated(this.replica, offset, hw);
  }

  enforceRetention(nowNs: bigint): Promise<RetentionOutcome> {
    this.checkUsable();
    return this.inner.enforceRetention(nowNs);
  }

  async close(reason?: LogClosedReason): Promise<void> {
    await this.inner.close(reason);
  }

  /**
   * The process died (its scheduler's timers, pending fsyncs included, are already cancelled):
   * the disk keeps only the durable prefix. Returns how many written records were lost.
   */
  loseUnsynced(): number {
    this.crashed = true;
    const durable = this.durableOffset;
    const lost = this.inner.newestOffset - durable;
    if (lost > 0) void this.inner.truncateFrom(durable + 1);
    this.pending.clear();
    void this.inner.close('closed');
    return Math.max(0, lost);
  }

  /** Resolves once everything up to `offset` is durable; fsyncs complete in the order they were issued. */
  private sync(offset: number): Promise<void> {
    const sync: PendingSync = { target: offset };
    this.pending.add(sync);
    const now = this.nowMs();
    const dueMs = Math.max(now + this.syncLatencyMs(), this.lastSyncDueMs);
    this.lastSyncDueMs = dueMs;
    return new Promise((resolve) => {
      this.scheduler.setTimeout(() => {
        this.pending.delete(sync);
        if (sync.target > this.durable) this.durable = sync.target;
        resolve();
      }, dueMs - now);
    });
  }

  private checkUsable(): void {
    if (this.crashed) throw new LogClosedError('closed');
  }
}

/** The leader epoch stamped in the entry bytes. */
export const entryEpoch = (entry: Buffer): number => readEntryLeaderEpoch(entry, 0);
