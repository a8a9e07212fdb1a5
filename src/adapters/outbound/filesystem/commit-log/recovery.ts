import { join } from 'node:path';
import { Logger } from '../../../../application/ports/logger.port';
import { SegmentCorruptedError } from '../../../../application/ports/partition-log.errors';
import { OffsetRange } from '../../../../application/ports/partition-log.port';
import { EpochEntry } from '../../../codec/leader-epoch-cache';
import {
  ENTRY_HEADER_BYTES,
  readEntryLeaderEpoch,
  readEntryMessageBytes,
  readEntryOffset,
  readEntryTimestampNs,
  scanMessageSet,
} from '../../../codec/message-set';
import { DamagedSpan, scanSegmentLog, SegmentScanSink } from './damage-scan';
import { FileSystem, StorageFile } from '../file-system';
import { readFully, writeFully } from './file-io';
import { Segment, parseSegmentFileName } from './segment';
import { INDEX_ENTRY_BYTES, SegmentIndex } from './segment-index';

export interface RecoveredSegments {
  /** In offset order; the last one is active (log and index open for writes), the others sealed. */
  readonly segments: Segment[];
  /** Epoch changes seen in the records recovery re-validated (the active segment's tail). */
  readonly epochStarts: EpochEntry[];
  /** Records found damaged or missing, kept and not served (docs/storage.md §4.1). */
  readonly damaged: OffsetRange[];
}

/**
 * Opens a partition directory after a clean or unclean stop (spec §7.1, §7.5; reliability plan
 * D1-D13). The `.log` files are the truth; indexes and checkpoints are hints:
 * - leftover `*.tmp` files and `.index` files without a `.log` are removed;
 * - sealed segments keep their index when it is consistent with the log (cheap checks), else it is
 *   rebuilt by scanning the log; a damaged record there is never cut: it is listed as damaged, the
 *   records after it stay servable, and the file stays as it is;
 * - the active segment is re-validated from its last index entry that matches the log; only a torn
 *   tail (nothing intact after the defect) is cut (log and index), with one warning naming the file,
 *   the byte position, the bytes cut and the last valid offset. A damaged record followed by intact
 *   ones is kept and listed as damaged, like in a sealed segment (`scanSegmentLog`).
 */
export async function recoverSegments(fs: FileSystem, dir: string, logger: Logger): Promise<RecoveredSegments> {
  await fs.mkdir(dir);
  const names = await fs.readdir(dir);
  const logs = new Set<number>();
  const indexes = new Set<number>();
  for (const name of names) {
    if (name.endsWith('.tmp')) {
      logger.warn({ file: join(dir, name) }, 'removed a temporary file left by an interrupted write');
      await fs.remove(join(dir, name));
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed !== null) (parsed.kind === 'log' ? logs : indexes).add(parsed.baseOffset);
  }
  for (const base of indexes) {
    if (logs.has(base)) continue;
    const orphan = new Segment(fs, dir, base, new SegmentIndex());
    logger.info({ file: orphan.indexPath }, 'removed an index without its log');
    await fs.remove(orphan.indexPath);
  }
  const bases = [...logs].sort((a, b) => a - b);
  if (bases.length === 0) {
    const segment = new Segment(fs, dir, 0, new SegmentIndex());
    await segment.create();
    await fs.syncDir(dir);
    return { segments: [segment], epochStarts: [], damaged: [] };
  }
  const segments: Segment[] = [];
  const damaged: OffsetRange[] = [];
  for (const base of bases.slice(0, -1)) {
    const sealed = await openSealed(fs, dir, base, indexes.has(base), logger);
    segments.push(sealed.segment);
    damaged.push(...sealed.damaged);
  }
  const active = await openActive(fs, dir, bases[bases.length - 1]!, indexes.has(bases[bases.length - 1]!), logger);
  segments.push(active.segment);
  damaged.push(...active.damaged);
  damaged.push(...missingBetween(segments, logger));
  return { segments, epochStarts: active.epochStarts, damaged: damaged.map(({ firstOffset, lastOffset }) => ({ firstOffset, lastOffset })) };
}

/** Index entries for the records of a damaged span: they keep their offsets, and reads refuse them. */
function placeholderInto(index: SegmentIndex, base: number): SegmentScanSink['damaged'] {
  return (offset, position, entryBytes, timestampNs) => index.append(offset - base, timestampNs, position, entryBytes);
}

function reportDamaged(logger: Logger, file: string, damaged: readonly DamagedSpan[]): void {
  for (const d of damaged) {
    logger.error(
      { file, position: d.position, bytes: d.bytes, firstOffset: d.firstOffset, lastOffset: d.lastOffset, defect: d.defect },
      'damaged record kept and not served: intact records follow it, so it is not a torn tail (repaired from an in-sync replica where there is one)',
    );
  }
}

async function openSealed(fs: FileSystem, dir: string, base: number, hasIndex: boolean, logger: Logger): Promise<{ segment: Segment; damaged: readonly DamagedSpan[] }> {
  const probe = new Segment(fs, dir, base, new SegmentIndex());
  const logFile = await fs.open(probe.logPath, 'readWrite');
  try {
    const size = (await logFile.stat()).size;
    const stored = hasIndex ? await fs.readFile(probe.indexPath) : null;
    const problem = await sealedIndexProblem(logFile, size, base, stored);
    let index: SegmentIndex;
    let damaged: readonly DamagedSpan[] = [];
    if (problem === null) {
      index = SegmentIndex.decode(stored!);
    } else {
      index = new SegmentIndex();
      const sink: SegmentScanSink = {
        entry: (buf, bufPos, filePos, offset, entryBytes) => index.append(offset - base, readEntryTimestampNs(buf, bufPos), filePos, entryBytes),
        damaged: placeholderInto(index, base),
      };
      const scan = await scanSegmentLog(logFile, size, 0, base, sink);
      damaged = scan.damaged;
      reportDamaged(logger, probe.logPath, damaged);
      if (scan.tornTail !== null) {
        // A sealed segment is never cut: what follows its last intact record is not served, and the
        // offsets it should have held are reported missing by checkContinuity.
        logger.error(
          { file: probe.logPath, position: scan.validEnd, offset: base + index.count, defect: scan.tornTail, bytesAfter: size - scan.validEnd },
          'sealed segment ends in bytes that are not a record: they are not served; the file is kept as it is',
        );
      }
      await writeIndexFile(fs, probe.indexPath, index);
      logger.warn({ file: probe.indexPath, reason: problem, entries: index.count }, 'rebuilt segment index from the log');
    }
    const segment = new Segment(fs, dir, base, index);
    segment.logFile = logFile;
    segment.bytes = size;
    segment.writtenBytes = size;
    segment.submittedBytes = size;
    segment.indexWrittenCount = index.count;
    return { segment, damaged };
  } catch (e) {
    await logFile.close();
    throw e;
  }
}

/** Why a sealed segment's index cannot be trusted, or null when it matches the log. */
async function sealedIndexProblem(logFile: StorageFile, size: number, base: number, stored: Buffer | null): Promise<string | null> {
  if (stored === null) return 'index missing';
  if (stored.length % INDEX_ENTRY_BYTES !== 0) return `index length ${stored.length} is not a multiple of ${INDEX_ENTRY_BYTES}`;
  const index = SegmentIndex.decode(stored);
  if (index.validPrefix() !== index.count) return `index entry ${index.validPrefix()} is inconsistent`;
  if (index.endPosition !== size) return `index covers ${index.endPosition} bytes, the log has ${size}`;
  if (index.count === 0) return null;
  for (const i of [0, index.count - 1]) {
    if (!(await entryMatchesIndex(logFile, base, index, i))) return `index entry ${i} does not match the log`;
  }
  return null;
}

/** The log's entry header at index entry `i` has the offset, timestamp and size the index says. */
async function entryMatchesIndex(logFile: StorageFile, base: number, index: SegmentIndex, i: number): Promise<boolean> {
  const header = await readFully(logFile, index.positionAt(i), ENTRY_HEADER_BYTES);
  return (
    readEntryOffset(header, 0) === base + index.relOffsetAt(i) &&
    readEntryTimestampNs(header, 0) === index.timestampAt(i) &&
    ENTRY_HEADER_BYTES + readEntryMessageBytes(header, 0) === index.sizeAt(i)
  );
}

async function openActive(
  fs: FileSystem,
  dir: string,
  base: number,
  hasIndex: boolean,
  logger: Logger,
): Promise<{ segment: Segment; epochStarts: EpochEntry[]; damaged: readonly DamagedSpan[] }> {
  const probe = new Segment(fs, dir, base, new SegmentIndex());
  const logFile = await fs.open(probe.logPath, 'readWrite');
  try {
    const size = (await logFile.stat()).size;
    const stored = hasIndex ? await fs.readFile(probe.indexPath) : null;
    const index = stored !== null && stored.length % INDEX_ENTRY_BYTES === 0 ? SegmentIndex.decode(stored) : new SegmentIndex();
    index.truncate(index.validPrefix());
    // Trust the index up to its last entry that lies within the log and matches it; re-validate from there.
    const within = index.entriesWithin(size);
    const resumeAt = within > 0 && (await entryMatchesIndex(logFile, base, index, within - 1)) ? within - 1 : 0;
    const startPos = resumeAt === 0 ? 0 : index.positionAt(resumeAt);
    index.truncate(resumeAt);
    const epochStarts: EpochEntry[] = [];
    let lastEpoch = -1;
    if (resumeAt === 0) await refuseMisnamedSegment(logFile, size, probe.logPath, base);
    const scan = await scanSegmentLog(logFile, size, startPos, base + resumeAt, {
      entry: (buf, bufPos, filePos, offset, entryBytes) => {
        index.append(offset - base, readEntryTimestampNs(buf, bufPos), filePos, entryBytes);
        const epoch = readEntryLeaderEpoch(buf, bufPos);
        if (epoch > lastEpoch) epochStarts.push({ epoch, startOffset: offset });
        lastEpoch = Math.max(lastEpoch, epoch);
      },
      damaged: placeholderInto(index, base),
    });
    reportDamaged(logger, probe.logPath, scan.damaged);
    if (scan.validEnd < size) {
      await logFile.truncate(scan.validEnd);
      await logFile.datasync();
      logger.warn(
        {
          file: probe.logPath,
          position: scan.validEnd,
          bytesCut: size - scan.validEnd,
          lastValidOffset: base + index.count - 1,
          defect: scan.tornTail,
        },
        'cut the torn tail of the active segment',
      );
    }
    const segment = new Segment(fs, dir, base, index);
    segment.logFile = logFile;
    segment.bytes = scan.validEnd;
    segment.writtenBytes = scan.validEnd;
    segment.submittedBytes = scan.validEnd;
    const encoded = index.encode(0, index.count);
    if (stored === null || !encoded.equals(stored)) {
      // An empty segment rolled just before a crash may lack its index: nothing worth a warning.
      if (stored !== null || index.count > 0) {
        const storedEntries = stored === null ? null : stored.length / INDEX_ENTRY_BYTES;
        logger.warn({ file: probe.indexPath, storedEntries, entries: index.count }, 'rewrote the active segment index from the log');
      }
      await writeIndexFile(fs, probe.indexPath, index);
    }
    segment.indexWrittenCount = index.count;
    await segment.openIndexForWrites();
    return { segment, epochStarts, damaged: scan.damaged };
  } catch (e) {
    await logFile.close();
    throw e;
  }
}

/**
 * Reliability plan D12: an active segment whose records are valid and contiguous but do not start
 * at the offset in its name was renamed or misplaced, not torn. Cutting it would destroy good data,
 * so the partition refuses to open instead. Checked before the scan, which would otherwise take the
 * records for damaged ones. (A single record whose offset field flipped cannot be told apart from
 * this; the scan treats it as damaged when intact records follow, else as a torn tail.)
 */
async function refuseMisnamedSegment(logFile: StorageFile, size: number, path: string, base: number): Promise<void> {
  const head = await readFully(logFile, 0, Math.min(size, 1 << 16));
  const scan = scanMessageSet(head, -1, { maxEntries: 2 });
  if (scan.count < 2 || scan.firstOffset === base) return;
  throw new SegmentCorruptedError(
    `${path}: records start at offset ${scan.firstOffset}, not at ${base} as the file name says; refusing to open (data kept)`,
  );
}

async function writeIndexFile(fs: FileSystem, path: string, index: SegmentIndex): Promise<void> {
  const file = await fs.open(path, 'readWriteCreate');
  try {
    await file.truncate(0);
    await writeFully(file, [index.encode(0, index.count)], 0);
  } finally {
    await file.close();
  }
}

/**
 * Segments must follow each other: a gap (a missing segment, records lost in a sealed one) is
 * refused on read rather than renumbered (D11) and returned as missing; an overlap keeps the later
 * segment's records (D12).
 */
function missingBetween(segments: readonly Segment[], logger: Logger): OffsetRange[] {
  const missing: OffsetRange[] = [];
  for (let i = 0; i + 1 < segments.length; i++) {
    const segment = segments[i]!;
    const nextBase = segments[i + 1]!.baseOffset;
    if (segment.nextOffset > nextBase) {
      logger.error({ file: segment.logPath, nextSegmentBase: nextBase }, 'segments overlap: records past the next segment base are not served');
      segment.index.truncate(nextBase - segment.baseOffset);
    } else if (segment.nextOffset < nextBase) {
      missing.push({ firstOffset: segment.nextOffset, lastOffset: nextBase - 1 });
      logger.error(
        { file: segment.logPath, missingFrom: segment.nextOffset, missingTo: nextBase - 1 },
        'offsets are missing between segments: they are not served',
      );
    }
  }
  return missing;
}
