/**
 * Offset lookups by timestamp over a log's segments (docs/storage.md "Segments, retention, epochs, truncation"), shared by both adapters. Record
 * timestamps are assumed non-decreasing (the leader's clock stamps them), as Liftbridge assumes:
 * both lookups binary-search, so out-of-order timestamps give an answer near, not at, the match.
 */
export interface TimestampedSegment {
  readonly baseOffset: number;
  /** Records whose timestamps are known (readable entries). */
  readonly count: number;
  timestampAt(index: number): bigint;
}

/** Earliest offset whose timestamp >= `timestampNs`; `logEndOffset` when there is none. */
export function earliestOffsetAtOrAfter(
  segments: readonly TimestampedSegment[],
  timestampNs: bigint,
  logEndOffset: number,
): number {
  for (const s of segments) {
    if (s.count === 0 || s.timestampAt(s.count - 1) < timestampNs) continue;
    return s.baseOffset + firstIndexAbove(s, timestampNs, true);
  }
  return logEndOffset;
}

/** Latest offset whose timestamp <= `timestampNs`; null when it is before the first record. */
export function latestOffsetAtOrBefore(segments: readonly TimestampedSegment[], timestampNs: bigint): number | null {
  let found: number | null = null;
  for (const s of segments) {
    if (s.count === 0) continue;
    const above = firstIndexAbove(s, timestampNs, false);
    if (above > 0) found = s.baseOffset + above - 1;
    if (above < s.count) break;
  }
  return found;
}

/** First index with timestamp >= target (`inclusive`) or > target; `count` when there is none. */
function firstIndexAbove(s: TimestampedSegment, target: bigint, inclusive: boolean): number {
  let lo = 0;
  let hi = s.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = s.timestampAt(mid);
    if (inclusive ? t >= target : t > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
