import { join } from 'node:path';
import { Logger } from '../../../../application/ports/logger.port';
import { OffsetRange } from '../../../../application/ports/partition-log.port';
import { scanMessageSet } from '../../../codec/message-set';
import { FileSystem } from '../file-system';
import { readFully, writeFileAtomic } from './file-io';
import { lastSegmentAtOrBefore } from './log-reads';
import { Segment } from './segment';

/**
 * `damaged-records` (docs/storage.md §1.4): the damaged ranges a log knows, so that a reopen (a
 * restart, or a role change, which reopens the log) still knows what an earlier scan or read found:
 * recovery trusts a consistent index and does not re-read the records it covers. Text: `0`
 * (version), the range count, then one `<firstOffset> <lastOffset>` line per range. A hint, checked
 * on open: ranges outside the log, or whose records now read back intact (repaired or truncated
 * and re-appended before the file caught up), are dropped.
 */
export const DAMAGED_RECORDS_CHECKPOINT = 'damaged-records';

export function formatDamagedRecords(ranges: readonly OffsetRange[]): string {
  return ['0', String(ranges.length), ...ranges.map((r) => `${r.firstOffset} ${r.lastOffset}`)].join('\n') + '\n';
}

/** The ranges of a checkpoint; garbage is ignored (it is only a hint). */
export function parseDamagedRecords(text: string): OffsetRange[] {
  const numbers = text.split(/\s+/).filter((t) => t.length > 0).map((t) => (/^\d{1,16}$/.test(t) ? Number(t) : -1));
  if (numbers[0] !== 0 || numbers[1] === undefined || numbers[1] < 0) return [];
  const ranges: OffsetRange[] = [];
  for (let i = 0; i < numbers[1]; i++) {
    const firstOffset = numbers[2 + 2 * i];
    const lastOffset = numbers[3 + 2 * i];
    if (firstOffset === undefined || lastOffset === undefined || firstOffset < 0 || lastOffset < firstOffset) break;
    ranges.push({ firstOffset, lastOffset });
  }
  return ranges;
}

/** The checkpoint's ranges that still hold damaged records in `segments` (empty when there is no file; `listed`: the names recovery found in `dir`). */
export async function loadDamagedRecords(fs: FileSystem, dir: string, segments: readonly Segment[], logger: Logger, listed: ReadonlySet<string>): Promise<OffsetRange[]> {
  if (!listed.has(DAMAGED_RECORDS_CHECKPOINT)) return [];
  let text: string;
  try {
    text = (await fs.readFile(join(dir, DAMAGED_RECORDS_CHECKPOINT))).toString('utf8');
  } catch {
    return [];
  }
  const kept: OffsetRange[] = [];
  for (const range of parseDamagedRecords(text)) {
    if (await stillDamaged(range, segments)) kept.push(range);
    else logger.info({ dir, ...range }, 'a damaged range of the checkpoint reads back intact now: dropped');
  }
  return kept;
}

/** Whether the records of `range` are stored (in one segment) and fail verification. */
async function stillDamaged(range: OffsetRange, segments: readonly Segment[]): Promise<boolean> {
  const i = lastSegmentAtOrBefore(segments, range.firstOffset);
  const segment = segments[i];
  if (segment === undefined || !segment.hasFiles) return false;
  const first = range.firstOffset - segment.baseOffset;
  const last = range.lastOffset - segment.baseOffset;
  if (last >= segment.index.count) return false;
  const position = segment.index.positionAt(first);
  const bytes = segment.index.positionAt(last) + segment.index.sizeAt(last) - position;
  const scan = scanMessageSet(await segment.logFile.use((file) => readFully(file, position, bytes)), range.firstOffset);
  return scan.defect !== null || scan.lastOffset !== range.lastOffset;
}

/** Replaces the checkpoint with `ranges` (atomic replace). */
export function writeDamagedRecords(fs: FileSystem, dir: string, ranges: readonly OffsetRange[]): Promise<void> {
  return writeFileAtomic(fs, dir, join(dir, DAMAGED_RECORDS_CHECKPOINT), formatDamagedRecords(ranges));
}
