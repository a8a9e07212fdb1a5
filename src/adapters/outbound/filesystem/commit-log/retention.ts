import { RetentionLimits, SegmentSummary, segmentsToDelete } from '../../../../domain/partition/log/retention-plan';
import { Segment } from './segment';

/** What retention needs to know about a segment; bytes are assigned bytes, counts are index entries. */
export const summarize = (s: Segment): SegmentSummary => ({
  baseOffset: s.baseOffset,
  count: s.index.count,
  bytes: s.bytes,
  lastTimestampNs: s.index.count === 0 ? null : s.index.timestampAt(s.index.count - 1),
});

/**
 * The leading segments retention removes (docs/storage.md "Segments, retention, epochs, truncation", via the shared plan: age, then messages,
 * then bytes; never the active segment, never offsets above the high watermark).
 */
export function expiredSegments(segments: readonly Segment[], limits: RetentionLimits, nowNs: bigint, highWatermark: number): Segment[] {
  const count = segmentsToDelete(segments.map(summarize), limits, nowNs, highWatermark);
  return segments.slice(0, count);
}
