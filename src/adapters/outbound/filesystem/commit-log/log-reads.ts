/** Lookups and checks for FilesystemPartitionLog reads and options, kept apart to keep the log class small. */
import { SegmentCorruptedError } from '../../../../application/ports/partition-log.errors';
import { PartitionLogOptions, RecordBatch } from '../../../../application/ports/partition-log.port';
import { assert } from '../../../../domain/shared/assert';
import { EpochEntry } from '../../../../domain/partition/log/leader-epoch-cache';
import { ENTRY_HEADER_BYTES, readEntryLeaderEpoch, scanMessageSet } from '../../../codec/message-set';
import { readFully } from './file-io';
import { Segment } from './segment';

/** First retained offset: -1 for a log that never had a record, newest + 1 when none is retained. */
export function oldestOf(segments: readonly Segment[], newest: number): number {
  if (newest < 0) return -1;
  const first = segments[0]!;
  return first.baseOffset <= newest ? first.baseOffset : newest + 1;
}

export function lastSegmentAtOrBefore(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.baseOffset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** A read from the file, verified: the good entries, and the offset of the first bad one if any. */
export interface VerifiedRead {
  /** Null when the first entry read is bad. */
  readonly batch: RecordBatch | null;
  /** The entry that failed verification, or null. */
  readonly bad: { readonly offset: number; readonly position: number; readonly defect: string } | null;
}

/** The leader epoch in the header of the stored record at `offset`; -1 when no segment indexes it. */
export async function leaderEpochAt(segments: readonly Segment[], offset: number): Promise<number> {
  const segment = segments[lastSegmentAtOrBefore(segments, offset)];
  const i = segment === undefined ? -1 : offset - segment.baseOffset;
  if (segment === undefined || i >= segment.index.count || !segment.hasFiles) return -1;
  const header = await segment.logFile.use((file) => readFully(file, segment.index.positionAt(i), ENTRY_HEADER_BYTES));
  return readEntryLeaderEpoch(header, 0);
}

/**
 * Validates what a read returned (CRC, sizes, offsets from `from`): pair assertion with the index.
 * Good entries before a bad one are still served; the bad one is named so the log can list it as
 * damaged. `position` is where `buf` starts in the file.
 */
export function verifiedRead(buf: Buffer, from: number, expectedCount: number, position: number): VerifiedRead {
  let validBytes = 0;
  let good = 0;
  const scan = scanMessageSet(buf, from, {
    maxEntries: expectedCount,
    visit: (_offset, pos, entryBytes) => {
      // The last entry must also end where the index says the read ends.
      if (good + 1 === expectedCount && pos + entryBytes !== buf.length) return;
      good++;
      validBytes = pos + entryBytes;
    },
  });
  if (scan.defect === null && good === expectedCount) {
    return { batch: { bytes: buf, firstOffset: from, lastOffset: from + good - 1, count: good }, bad: null };
  }
  // The first entry that is invalid, or that does not end where the index says the read ends.
  const bad = { offset: from + good, position: position + validBytes, defect: scan.defect ?? 'size mismatch with the index' };
  if (good === 0) return { batch: null, bad };
  return { batch: { bytes: buf.subarray(0, validBytes), firstOffset: from, lastOffset: from + good - 1, count: good }, bad };
}

/**
 * Checks a batch from the leader before it is written (CRC, layout, offsets from its first, the
 * count it claims); throws `SegmentCorruptedError` when it fails. Returns the epochs newer than
 * `lastEpoch` that start in it.
 */
export function validatedReplicatedBatch(batch: RecordBatch, lastEpoch: number): { lastOffset: number; epochStarts: EpochEntry[] } {
  const epochStarts: EpochEntry[] = [];
  let last = lastEpoch;
  const scan = scanMessageSet(batch.bytes, batch.firstOffset, {
    visit: (offset, pos) => {
      const epoch = readEntryLeaderEpoch(batch.bytes, pos);
      if (epoch > last) epochStarts.push({ epoch, startOffset: offset });
      last = Math.max(last, epoch);
    },
  });
  if (scan.defect !== null || scan.count === 0 || scan.count !== batch.count || scan.lastOffset !== batch.lastOffset) {
    throw new SegmentCorruptedError(`replicated batch ${batch.firstOffset}-${batch.lastOffset} rejected: ${scan.defect ?? 'count mismatch'} at byte ${scan.validBytes}`);
  }
  return { lastOffset: scan.lastOffset, epochStarts };
}

export function assertOptions(o: PartitionLogOptions): void {
  const nonNegative = (v: number) => Number.isSafeInteger(v) && v >= 0;
  assert(Number.isSafeInteger(o.segmentMaxBytes) && o.segmentMaxBytes > 0, `segmentMaxBytes must be positive: ${o.segmentMaxBytes}`);
  for (const [name, value] of Object.entries({
    segmentMaxAgeMs: o.segmentMaxAgeMs,
    retentionMaxBytes: o.retentionMaxBytes,
    retentionMaxMessages: o.retentionMaxMessages,
    retentionMaxAgeMs: o.retentionMaxAgeMs,
  })) {
    assert(nonNegative(value), `${name} must be a non-negative integer: ${value}`);
  }
  assert(o.syncPolicy !== 'interval' || (Number.isSafeInteger(o.syncIntervalMs) && o.syncIntervalMs > 0), `syncIntervalMs must be positive: ${o.syncIntervalMs}`);
}
