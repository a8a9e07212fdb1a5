import {
  LogClosedError,
  LogReadonlyError,
  OffsetOutOfRangeError,
  SegmentCorruptedError,
} from '../../../application/ports/partition-log.errors';
import {
  LogClosedReason,
  NewRecord,
  OffsetRange,
  PartitionLog,
  PartitionLogOptions,
  PendingAppend,
  RecordBatch,
  RetentionOutcome,
} from '../../../application/ports/partition-log.port';
import { assert } from '../../../domain/shared/assert';
import { PartitionRef } from '../../../domain/shared/ids';
import { assertOffset } from '../../../domain/shared/offsets';
import { CommitWaiters } from '../../partition-log/commit-waiters';
import { EpochEntry, LeaderEpochCache } from '../../../domain/partition/log/leader-epoch-cache';
import {
  encodeNewRecords,
  readEntryLeaderEpoch,
  readEntryMessageBytes,
  readEntryTimestampNs,
  scanMessageSet,
  ENTRY_HEADER_BYTES,
} from '../../codec/message-set';
import { rollDue, segmentsToDelete } from '../../../domain/partition/log/retention-plan';
import { earliestOffsetAtOrAfter, latestOffsetAtOrBefore, TimestampedSegment } from '../../../domain/partition/log/timestamp-search';

/** One segment: entries as slices of the encoded batches (the bytes are the on-disk format). */
export interface InMemorySegment {
  readonly baseOffset: number;
  readonly entries: Buffer[];
  readonly timestampsNs: bigint[];
  bytes: number;
}

/** What survives close/reopen in the in-memory store (the "disk"). */
export interface InMemoryPartitionData {
  segments: InMemorySegment[];
  highWatermark: number;
  epochs: readonly EpochEntry[];
}

const RESOLVED: Promise<void> = Promise.resolve();

const NO_DAMAGE: readonly OffsetRange[] = Object.freeze([]);

/**
 * `PartitionLog` in memory: same message-set bytes, offsets, retention, epochs, truncation,
 * read-only and waiter semantics as `FilesystemPartitionLog`, with every append durable at once.
 * First-class code (docs/style.md "In-memory adapters"): unit tests and the simulator run the application on it.
 *
 * A replicated batch that does not continue the log throws `OffsetOutOfRangeError`; one that fails
 * validation (CRC, sizes, continuity inside the batch) throws `SegmentCorruptedError`.
 */
export class InMemoryPartitionLog implements PartitionLog {
  private readonly epochs: LeaderEpochCache;
  private readonly waiters = new CommitWaiters();
  private hw: number;
  private readonlyFlag = false;
  private closed: LogClosedReason | null = null;

  constructor(
    readonly ref: PartitionRef,
    private readonly options: PartitionLogOptions,
    private readonly data: InMemoryPartitionData,
    private readonly onClosed: (log: InMemoryPartitionLog) => void,
  ) {
    if (data.segments.length === 0) data.segments.push(emptySegment(0));
    this.epochs = new LeaderEpochCache(data.epochs);
    this.epochs.clearLatest(this.newestOffset + 1);
    if (this.oldestOffset >= 0) this.epochs.clearEarliest(this.oldestOffset);
    this.hw = Math.min(data.highWatermark, this.newestOffset);
    this.persist();
  }

  get oldestOffset(): number {
    const newest = this.newestOffset;
    if (newest < 0) return -1;
    const first = this.data.segments.find((s) => s.entries.length > 0);
    return first === undefined ? newest + 1 : first.baseOffset;
  }

  get newestOffset(): number {
    const active = this.active;
    return active.baseOffset + active.entries.length - 1;
  }

  get durableOffset(): number {
    return this.newestOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  get isReadonly(): boolean {
    return this.readonlyFlag;
  }

  get closedReason(): LogClosedReason | null {
    return this.closed;
  }

  /** Memory does not fail (an allocation failure ends the process). */
  get storageFailure(): null {
    return null;
  }

  get lastLeaderEpoch(): number {
    return this.epochs.lastEpoch;
  }

  /** Memory does not rot: nothing is ever damaged here. */
  get damaged(): readonly OffsetRange[] {
    return NO_DAMAGE;
  }

  async repairDamaged(batch: RecordBatch): Promise<number> {
    this.checkOpen();
    const scan = scanMessageSet(batch.bytes, batch.firstOffset);
    if (scan.defect !== null || scan.count === 0 || scan.count !== batch.count) {
      throw new SegmentCorruptedError(`repair batch ${batch.firstOffset}-${batch.lastOffset} rejected: ${scan.defect ?? 'count mismatch'} at byte ${scan.validBytes}`);
    }
    return 0;
  }

  append(records: readonly NewRecord[], timestampNs: bigint, leaderEpoch: number): PendingAppend {
    this.checkOpen();
    if (this.readonlyFlag) throw new LogReadonlyError();
    assert(records.length > 0, 'append needs at least one record');
    const firstOffset = this.newestOffset + 1;
    const bytes = encodeNewRecords(records, firstOffset, timestampNs, leaderEpoch);
    this.write(bytes, firstOffset, timestampNs);
    this.recordEpoch(leaderEpoch, firstOffset);
    return { firstOffset, lastOffset: firstOffset + records.length - 1, durable: RESOLVED };
  }

  async appendReplicated(batch: RecordBatch): Promise<void> {
    this.checkOpen();
    const expected = this.newestOffset + 1;
    if (batch.firstOffset !== expected) {
      throw new OffsetOutOfRangeError(`replicated batch starts at ${batch.firstOffset}, log continues at ${expected}`);
    }
    const epochStarts: EpochEntry[] = [];
    let lastEpoch = this.epochs.lastEpoch;
    const scan = scanMessageSet(batch.bytes, expected, {
      visit: (offset, pos) => {
        const epoch = readEntryLeaderEpoch(batch.bytes, pos);
        if (epoch > lastEpoch) epochStarts.push({ epoch, startOffset: offset });
        lastEpoch = Math.max(lastEpoch, epoch);
      },
    });
    if (scan.defect !== null || scan.count !== batch.count || scan.lastOffset !== batch.lastOffset || scan.count === 0) {
      throw new SegmentCorruptedError(
        `replicated batch ${batch.firstOffset}-${batch.lastOffset} rejected: ${scan.defect ?? 'count mismatch'} at byte ${scan.validBytes}`,
      );
    }
    this.write(Buffer.from(batch.bytes), expected, readEntryTimestampNs(batch.bytes, 0));
    for (const e of epochStarts) this.recordEpoch(e.epoch, e.startOffset);
  }

  async read(fromOffset: number, maxOffset: number, maxBytes: number): Promise<RecordBatch | null> {
    this.checkOpen();
    const limit = Math.min(maxOffset, this.newestOffset);
    const oldest = this.oldestOffset;
    const from = Math.max(fromOffset, oldest);
    if (oldest < 0 || from > limit) return null;
    const segment = this.segmentFor(from);
    const slices: Buffer[] = [];
    let total = 0;
    for (let i = from - segment.baseOffset; i < segment.entries.length && segment.baseOffset + i <= limit; i++) {
      const entry = segment.entries[i]!;
      if (slices.length > 0 && total + entry.length > maxBytes) break;
      slices.push(entry);
      total += entry.length;
    }
    if (slices.length === 0) return null;
    const bytes = Buffer.concat(slices, total);
    const scan = scanMessageSet(bytes, from);
    assert(scan.defect === null && scan.count === slices.length, `in-memory entries from ${from} failed validation`);
    return { bytes, firstOffset: from, lastOffset: scan.lastOffset, count: scan.count };
  }

  earliestOffsetAtOrAfter(timestampNs: bigint): number {
    this.checkOpen();
    return earliestOffsetAtOrAfter(this.data.segments.map(timestamped), timestampNs, this.newestOffset + 1);
  }

  latestOffsetAtOrBefore(timestampNs: bigint): number | null {
    this.checkOpen();
    return latestOffsetAtOrBefore(this.data.segments.map(timestamped), timestampNs);
  }

  setHighWatermark(offset: number): void {
    this.checkOpen();
    assertOffset(offset, 'high watermark');
    assert(offset <= this.durableOffset, `high watermark ${offset} is past the durable offset ${this.durableOffset}`);
    if (offset <= this.hw) return;
    this.hw = offset;
    this.data.highWatermark = offset;
    this.waiters.wakeUpTo(offset);
  }

  waitForCommit(afterOffset: number, signal: AbortSignal): Promise<void> {
    if (this.closed !== null || this.hw > afterOffset) return RESOLVED;
    return this.waiters.wait(afterOffset, signal);
  }

  setReadonly(readonly: boolean): void {
    this.checkOpen();
    if (this.readonlyFlag === readonly) return;
    this.readonlyFlag = readonly;
    this.waiters.wakeAll();
  }

  beginLeaderEpoch(epoch: number): void {
    this.checkOpen();
    this.recordEpoch(epoch, this.newestOffset + 1);
  }

  leaderEpochAtOrBefore(epoch: number): number {
    this.checkOpen();
    return this.epochs.epochAtOrBefore(epoch);
  }

  endOffsetForLeaderEpoch(epoch: number): number {
    this.checkOpen();
    return this.epochs.endOffsetFor(epoch, this.newestOffset + 1);
  }

  async truncateFrom(offset: number): Promise<void> {
    this.checkOpen();
    assertOffset(offset, 'truncation offset');
    if (offset > this.newestOffset) {
      // Nothing to remove; only epochs starting there go.
    } else if (offset <= this.oldestOffset) {
      // Everything goes; the log continues at `offset` (a follower behind the leader's retention).
      this.data.segments = [emptySegment(offset)];
    } else {
      const keep = lastSegmentAtOrBefore(this.data.segments, offset);
      const segment = this.data.segments[keep]!;
      const count = offset - segment.baseOffset;
      segment.entries.length = count;
      segment.timestampsNs.length = count;
      segment.bytes = segment.entries.reduce((sum, e) => sum + e.length, 0);
      this.data.segments.length = keep + 1;
    }
    this.epochs.clearLatest(offset);
    if (this.hw >= offset) this.hw = offset - 1;
    this.persist();
  }

  async enforceRetention(nowNs: bigint): Promise<RetentionOutcome> {
    this.checkOpen();
    // Maintenance rolls by age only: a full segment is rolled by the next append (port doc).
    const rolled = this.rollIfDue(nowNs, 0, false);
    const summaries = this.data.segments.map((s) => ({
      baseOffset: s.baseOffset,
      count: s.entries.length,
      bytes: s.bytes,
      lastTimestampNs: s.timestampsNs.length === 0 ? null : s.timestampsNs[s.timestampsNs.length - 1]!,
    }));
    const deleted = segmentsToDelete(summaries, this.options, nowNs, this.hw);
    if (deleted > 0) {
      this.data.segments.splice(0, deleted);
      this.epochs.clearEarliest(this.data.segments[0]!.baseOffset);
      this.persist();
    }
    return { segmentsDeleted: deleted, rolled };
  }

  async close(reason: LogClosedReason = 'closed'): Promise<void> {
    if (this.closed !== null) return;
    this.closed = reason;
    this.persist();
    this.waiters.wakeAll();
    this.onClosed(this);
  }

  private get active(): InMemorySegment {
    return this.data.segments[this.data.segments.length - 1]!;
  }

  private checkOpen(): void {
    if (this.closed !== null) throw new LogClosedError(this.closed);
  }

  /** Appends validated entries starting at `firstOffset` to the active segment (rolling first if due). */
  private write(bytes: Buffer, firstOffset: number, timestampNs: bigint): void {
    this.rollIfDue(timestampNs, bytes.length, true);
    const segment = this.active;
    assert(segment.baseOffset + segment.entries.length === firstOffset, 'write does not continue the log');
    for (let pos = 0; pos < bytes.length; ) {
      const size = ENTRY_HEADER_BYTES + readEntryMessageBytes(bytes, pos);
      segment.entries.push(bytes.subarray(pos, pos + size));
      segment.timestampsNs.push(readEntryTimestampNs(bytes, pos));
      pos += size;
    }
    segment.bytes += bytes.length;
  }

  private rollIfDue(nowNs: bigint, incomingBytes: number, bySize: boolean): boolean {
    const active = this.active;
    const state = { count: active.entries.length, bytes: active.bytes, firstTimestampNs: active.timestampsNs[0] ?? null };
    if (!rollDue(state, this.options, nowNs, incomingBytes, bySize)) return false;
    this.data.segments.push(emptySegment(this.newestOffset + 1));
    return true;
  }

  private segmentFor(offset: number): InMemorySegment {
    const i = lastSegmentAtOrBefore(this.data.segments, offset);
    assert(i >= 0, `no segment holds offset ${offset}`);
    return this.data.segments[i]!;
  }

  private recordEpoch(epoch: number, startOffset: number): void {
    if (epoch > this.epochs.lastEpoch && this.epochs.assign(epoch, startOffset)) this.persist();
  }

  private persist(): void {
    this.data.epochs = this.epochs.all;
    this.data.highWatermark = this.hw;
  }
}

const timestamped = (s: InMemorySegment): TimestampedSegment => ({
  baseOffset: s.baseOffset,
  count: s.entries.length,
  timestampAt: (i) => s.timestampsNs[i]!,
});

function lastSegmentAtOrBefore(segments: readonly InMemorySegment[], offset: number): number {
  for (let i = segments.length - 1; i >= 0; i--) if (segments[i]!.baseOffset <= offset) return i;
  return -1;
}

const emptySegment = (baseOffset: number): InMemorySegment => ({ baseOffset, entries: [], timestampsNs: [], bytes: 0 });
