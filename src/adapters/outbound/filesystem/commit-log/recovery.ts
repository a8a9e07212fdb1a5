import { join } from 'node:path';
import { Logger } from '../../../../application/ports/logger.port';
import { SegmentCorruptedError } from '../../../../application/ports/partition-log.errors';
import { OffsetRange } from '../../../../application/ports/partition-log.port';
import { EpochEntry } from '../../../../domain/partition/log/leader-epoch-cache';
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
import { mkdirDurable, readFully, writeFully } from './file-io';
import { OpenFileCache } from './open-file-cache';
import { INDEX_SUFFIX, Segment, parseSegmentFileName, segmentFileName } from './segment';
import { INDEX_ENTRY_BYTES, SegmentIndex } from './segment-index';

export interface RecoveredSegments {
  /** In offset order; the last one is active, the others sealed. Their files are opened on demand (OpenFileCache). */
  readonly segments: Segment[];
  /** Epoch changes seen in the records recovery re-validated (the active segment's tail). */
  readonly epochStarts: EpochEntry[];
  /** Records found damaged or missing, kept and not served (docs/storage.md §4.1). */
  readonly damaged: OffsetRange[];
  /** The names in the directory (the checkpoints among them are read; the others need no failed open). */
  readonly listed: ReadonlySet<string>;
}

/**
 * Opens a partition directory after a clean or unclean stop (docs/storage.md "Recovery (open)"; docs/reliability.md "Bad inputs"
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
export async function recoverSegments(files: OpenFileCache, dir: string, logger: Logger): Promise<RecoveredSegments> {
  const fs = files.fs;
  const names = await listOrCreate(fs, dir);
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
    const orphan = join(dir, segmentFileName(base, INDEX_SUFFIX));
    logger.info({ file: orphan }, 'removed an index without its log');
    await fs.remove(orphan);
  }
  const bases = [...logs].sort((a, b) => a - b);
  if (bases.length === 0) {
    const segment = new Segment(files, dir, 0, new SegmentIndex());
    return closingOnFailure([segment], async () => {
      await segment.create();
      await fs.syncDir(dir);
      return { segments: [segment], epochStarts: [], damaged: [], listed: new Set(names) };
    });
  }
  const segments: Segment[] = [];
  const damaged: OffsetRange[] = [];
  return closingOnFailure(segments, async () => {
    for (const base of bases.slice(0, -1)) {
      const sealed = await openSealed(files, dir, base, indexes.has(base), logger);
      segments.push(sealed.segment);
      damaged.push(...sealed.damaged);
    }
    const active = await openActive(files, dir, bases[bases.length - 1]!, indexes.has(bases[bases.length - 1]!), logger);
    segments.push(active.segment);
    damaged.push(...active.damaged);
    damaged.push(...missingBetween(segments, logger));
    return { segments, epochStarts: active.epochStarts, damaged: damaged.map(({ firstOffset, lastOffset }) => ({ firstOffset, lastOffset })), listed: new Set(names) };
  });
}

/** The names in `dir`; a missing directory is created (durably, with its parents) and empty. */
async function listOrCreate(fs: FileSystem, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdirDurable(fs, dir);
  return [];
}

/** Runs `step` of an open; when it fails, the handles of `segments` are closed first (the open is retried later: nothing it opened stays open). */
export async function closingOnFailure<T>(segments: readonly Segment[], step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    for (const segment of segments) await segment.close();
    throw error;
  }
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

async function openSealed(files: OpenFileCache, dir: string, base: number, hasIndex: boolean, logger: Logger): Promise<{ segment: Segment; damaged: readonly DamagedSpan[] }> {
  return withOpenedLog(files, dir, base, async (segment, logFile) => {
    const size = (await logFile.stat()).size;
    const stored = hasIndex ? await files.fs.readFile(segment.indexPath) : null;
    const problem = await sealedIndexProblem(logFile, size, base, stored);
    let damaged: readonly DamagedSpan[] = [];
    if (problem === null) {
      segment.index = SegmentIndex.decode(stored!);
    } else {
      const index = segment.index;
      const sink: SegmentScanSink = {
        entry: (buf, bufPos, filePos, offset, entryBytes) => index.append(offset - base, readEntryTimestampNs(buf, bufPos), filePos, entryBytes),
        damaged: placeholderInto(index, base),
      };
      const scan = await scanSegmentLog(logFile, size, 0, base, sink);
      damaged = scan.damaged;
      reportDamaged(logger, segment.logPath, damaged);
      if (scan.tornTail !== null) {
        // A sealed segment is never cut: what follows its last intact record is not served, and the
        // offsets it should have held are reported missing by checkContinuity.
        logger.error(
          { file: segment.logPath, position: scan.validEnd, offset: base + index.count, defect: scan.tornTail, bytesAfter: size - scan.validEnd },
          'sealed segment ends in bytes that are not a record: they are not served; the file is kept as it is',
        );
      }
      await writeIndexFile(segment);
      await segment.indexFile.closeNow(); // a sealed segment writes its index no more
      logger.warn({ file: segment.indexPath, reason: problem, entries: index.count }, 'rebuilt segment index from the log');
    }
    segment.bytes = size;
    segment.writtenBytes = size;
    segment.submittedBytes = size;
    segment.indexWrittenCount = segment.index.count;
    return { segment, damaged };
  });
}

/**
 * Runs `recover` with a new segment at `base` and its `.log` open (it must exist), through the
 * store's open-file cache. The segment is returned with its files marked present; on failure its
 * handles are closed.
 */
async function withOpenedLog<T>(files: OpenFileCache, dir: string, base: number, recover: (segment: Segment, logFile: StorageFile) => Promise<T>): Promise<T> {
  const segment = new Segment(files, dir, base, new SegmentIndex());
  const logFile = await segment.logFile.acquire();
  let recovered = false;
  try {
    const result = await recover(segment, logFile);
    segment.hasFiles = true;
    recovered = true;
    return result;
  } finally {
    segment.logFile.release();
    if (!recovered) await segment.close();
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
  files: OpenFileCache,
  dir: string,
  base: number,
  hasIndex: boolean,
  logger: Logger,
): Promise<{ segment: Segment; epochStarts: EpochEntry[]; damaged: readonly DamagedSpan[] }> {
  return withOpenedLog(files, dir, base, async (segment, logFile) => {
    const size = (await logFile.stat()).size;
    const stored = hasIndex ? await files.fs.readFile(segment.indexPath) : null;
    const index = stored !== null && stored.length % INDEX_ENTRY_BYTES === 0 ? SegmentIndex.decode(stored) : new SegmentIndex();
    segment.index = index;
    index.truncate(index.validPrefix());
    // Trust the index up to its last entry that lies within the log and matches it; re-validate from there.
    const within = index.entriesWithin(size);
    const resumeAt = within > 0 && (await entryMatchesIndex(logFile, base, index, within - 1)) ? within - 1 : 0;
    const startPos = resumeAt === 0 ? 0 : index.positionAt(resumeAt);
    index.truncate(resumeAt);
    const epochStarts: EpochEntry[] = [];
    let lastEpoch = -1;
    if (resumeAt === 0) await refuseMisnamedSegment(logFile, size, segment.logPath, base);
    const scan = await scanSegmentLog(logFile, size, startPos, base + resumeAt, {
      entry: (buf, bufPos, filePos, offset, entryBytes) => {
        index.append(offset - base, readEntryTimestampNs(buf, bufPos), filePos, entryBytes);
        const epoch = readEntryLeaderEpoch(buf, bufPos);
        if (epoch > lastEpoch) epochStarts.push({ epoch, startOffset: offset });
        lastEpoch = Math.max(lastEpoch, epoch);
      },
      damaged: placeholderInto(index, base),
    });
    reportDamaged(logger, segment.logPath, scan.damaged);
    if (scan.validEnd < size) {
      await logFile.truncate(scan.validEnd);
      await logFile.datasync();
      logger.warn(
        {
          file: segment.logPath,
          position: scan.validEnd,
          bytesCut: size - scan.validEnd,
          lastValidOffset: base + index.count - 1,
          defect: scan.tornTail,
        },
        'cut the torn tail of the active segment',
      );
    }
    segment.bytes = scan.validEnd;
    segment.writtenBytes = scan.validEnd;
    segment.submittedBytes = scan.validEnd;
    const encoded = index.encode(0, index.count);
    if (stored === null || !encoded.equals(stored)) {
      // An empty segment rolled just before a crash may lack its index: nothing worth a warning.
      if (stored !== null || index.count > 0) {
        const storedEntries = stored === null ? null : stored.length / INDEX_ENTRY_BYTES;
        logger.warn({ file: segment.indexPath, storedEntries, entries: index.count }, 'rewrote the active segment index from the log');
      }
      await writeIndexFile(segment);
      segment.indexUnsynced = true; // synced when the segment is sealed, like the entries written later
    }
    segment.indexWrittenCount = index.count;
    return { segment, epochStarts, damaged: scan.damaged };
  });
}

/**
 * docs/reliability.md "Bad inputs" D12: an active segment whose records are valid and contiguous but do not start
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

/** Replaces the segment's `.index` with its in-memory index (recovery rebuilt or re-validated it). */
async function writeIndexFile(segment: Segment): Promise<void> {
  await segment.indexFile.use(async (file) => {
    await file.truncate(0);
    await writeFully(file, [segment.index.encode(0, segment.index.count)], 0);
  });
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
