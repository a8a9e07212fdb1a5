import { LogJob } from './log-flush';
import { lastSegmentAtOrBefore } from './log-reads';
import { Segment } from './segment';

export type TruncateJob = Extract<LogJob, { kind: 'truncate' }>;

/**
 * What remains when the records at and after `offset` go (docs/storage.md §3 "Truncation"), and
 * the job that makes the files follow. At or below the oldest offset every segment goes and the log
 * continues at `offset` in a fresh segment; otherwise the segment holding `offset` is cut — here, in
 * memory: its index and byte count change in place — and becomes active, and the later ones go.
 */
export function planTruncation(
  segments: readonly Segment[],
  offset: number,
  oldestOffset: number,
  freshSegment: (baseOffset: number) => Segment,
): { segments: Segment[]; job: TruncateJob } {
  if (offset <= oldestOffset) {
    const fresh = freshSegment(offset);
    return { segments: [fresh], job: { kind: 'truncate', segment: fresh, count: 0, position: 0, removed: [...segments], fresh: true } };
  }
  const at = lastSegmentAtOrBefore(segments, offset);
  const segment = segments[at]!;
  const count = Math.min(offset - segment.baseOffset, segment.index.count);
  const position = count === segment.index.count ? segment.index.endPosition : segment.index.positionAt(count);
  segment.index.truncate(count);
  segment.bytes = position;
  return { segments: segments.slice(0, at + 1), job: { kind: 'truncate', segment, count, position, removed: segments.slice(at + 1), fresh: false } };
}
