/**
 * Which whole segments retention deletes (docs/storage.md "Segments, retention, epochs, truncation"): pure, shared by the filesystem and in-memory
 * logs so both delete exactly the same segments.
 */
export interface SegmentSummary {
  readonly baseOffset: number;
  /** Records in the segment (index entries, not the offset span). */
  readonly count: number;
  /** Bytes of the segment's log. */
  readonly bytes: number;
  /** Timestamp of its last record; null when it is empty. */
  readonly lastTimestampNs: bigint | null;
}

export interface RetentionLimits {
  /** 0 = unlimited, for all three. */
  readonly retentionMaxBytes: number;
  readonly retentionMaxMessages: number;
  readonly retentionMaxAgeMs: number;
}

const NS_PER_MS = 1_000_000n;

/**
 * Number of leading segments to delete. Applies age, then messages, then bytes, each to the
 * survivors of the previous step. The last (active) segment is never deleted, nor any segment
 * holding an offset above `highWatermark`: retention must not drop data replicas may still need.
 */
export function segmentsToDelete(
  segments: readonly SegmentSummary[],
  limits: RetentionLimits,
  nowNs: bigint,
  highWatermark: number,
): number {
  let deletable = 0;
  while (deletable < segments.length - 1 && lastOffsetOf(segments[deletable]!) <= highWatermark) deletable++;
  let first = 0;
  if (limits.retentionMaxAgeMs > 0) {
    const cutoffNs = nowNs - BigInt(limits.retentionMaxAgeMs) * NS_PER_MS;
    while (first < deletable && isOlderThan(segments[first]!, cutoffNs)) first++;
  }
  if (limits.retentionMaxMessages > 0) {
    first = Math.max(first, firstKept(segments, first, deletable, limits.retentionMaxMessages, (s) => s.count));
  }
  if (limits.retentionMaxBytes > 0) {
    first = Math.max(first, firstKept(segments, first, deletable, limits.retentionMaxBytes, (s) => s.bytes));
  }
  return first;
}

const lastOffsetOf = (s: SegmentSummary): number => s.baseOffset + s.count - 1;

/** An empty sealed segment holds nothing worth keeping, so it counts as expired. */
const isOlderThan = (s: SegmentSummary, cutoffNs: bigint): boolean => s.lastTimestampNs === null || s.lastTimestampNs < cutoffNs;

/**
 * Walks from the newest segment back, summing `measure`; the segment that takes the total past
 * `limit` and everything older go (never past `deletable`, never before `first`).
 */
function firstKept(
  segments: readonly SegmentSummary[],
  first: number,
  deletable: number,
  limit: number,
  measure: (s: SegmentSummary) => number,
): number {
  let total = 0;
  for (let i = segments.length - 1; i >= first; i--) {
    total += measure(segments[i]!);
    if (total > limit) return Math.min(i + 1, deletable);
  }
  return first;
}

/** Largest segment position the 20-byte index can hold (int32). */
export const SEGMENT_BYTES_MAX = 0x7fffffff;

export interface ActiveSegmentState {
  readonly count: number;
  readonly bytes: number;
  /** Timestamp of the segment's first record; null when it is empty. */
  readonly firstTimestampNs: bigint | null;
}

/**
 * Whether to roll before writing `incomingBytes` stamped `nowNs` (docs/storage.md "Segments, retention, epochs, truncation"): never for an empty
 * segment; when it holds `segmentMaxBytes` or more; when its first record is `segmentMaxAgeMs` old
 * or older (0 = size only); and when the batch would push positions past int32. Maintenance passes
 * `bySize` false: a full segment is rolled by the next append, so an idle log keeps one segment.
 */
export function rollDue(
  active: ActiveSegmentState,
  limits: { readonly segmentMaxBytes: number; readonly segmentMaxAgeMs: number },
  nowNs: bigint,
  incomingBytes: number,
  bySize: boolean,
): boolean {
  if (active.count === 0) return false;
  if (bySize && active.bytes >= limits.segmentMaxBytes) return true;
  if (bySize && active.bytes + incomingBytes > SEGMENT_BYTES_MAX) return true;
  if (limits.segmentMaxAgeMs <= 0 || active.firstTimestampNs === null) return false;
  return nowNs - active.firstTimestampNs >= BigInt(limits.segmentMaxAgeMs) * NS_PER_MS;
}
