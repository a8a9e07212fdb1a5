import { StorageFile } from '../file-system';
import {
  ENTRY_HEADER_BYTES,
  ENTRY_LEADER_EPOCH_POS,
  ENTRY_MIN_BYTES,
  ENTRY_SIZE_POS,
  EntryDefect,
  MESSAGE_MAX_BYTES,
  MESSAGE_MIN_BYTES,
  entryDefect,
  readEntryLeaderEpoch,
  readEntryTimestampNs,
  readUint53,
} from '../../../codec/message-set';
import { readFully } from './file-io';
import { LogEntryVisitor, scanLogFile } from './log-scan';

/** Bytes read at a time while searching for the entry after a damaged one: bounded memory. */
const SEARCH_CHUNK_BYTES = 1 << 20;

/** Records that a scan found damaged and kept: `[position, position + bytes)` of the file. */
export interface DamagedSpan {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly position: number;
  readonly bytes: number;
  readonly defect: EntryDefect;
}

export interface SegmentLogScan {
  /** File position just past the last record kept (valid or damaged): anything after it is a torn tail. */
  readonly validEnd: number;
  /** Records kept from `startOffset`, damaged ones included. */
  readonly count: number;
  readonly damaged: readonly DamagedSpan[];
  /** Why the torn tail at `validEnd` is not a record; null when there is none. */
  readonly tornTail: EntryDefect | null;
}

/**
 * Receives what a scan keeps, in offset order: valid entries, and placeholders for damaged records
 * (positions back to back over the damaged span, so an index built from them stays consistent).
 */
export interface SegmentScanSink {
  readonly entry: LogEntryVisitor;
  damaged(offset: number, position: number, entryBytes: number, timestampNs: bigint): void;
}

/**
 * Validates a segment's `.log` from `startPos` (holding `startOffset`) and tells a torn tail from
 * a damaged record (docs/storage.md §4): at each invalid entry it looks for the next intact one
 * (`findNextIntactEntry`). None → everything from the defect on is a torn tail (an interrupted
 * write: incomplete record, zeros, garbage to the end), to be cut. Found → the records in between
 * are damaged but the log goes on: they are kept as placeholders and the scan resumes there.
 */
export async function scanSegmentLog(file: StorageFile, fileSize: number, startPos: number, startOffset: number, sink: SegmentScanSink): Promise<SegmentLogScan> {
  let pos = startPos;
  let expected = startOffset;
  let count = 0;
  let lastEpoch = 0;
  let lastTimestampNs: bigint | null = null;
  const damaged: DamagedSpan[] = [];
  const visit: LogEntryVisitor = (buf, bufPos, filePos, offset, entryBytes) => {
    lastEpoch = readEntryLeaderEpoch(buf, bufPos);
    lastTimestampNs = readEntryTimestampNs(buf, bufPos);
    sink.entry(buf, bufPos, filePos, offset, entryBytes);
  };
  for (;;) {
    const scan = await scanLogFile(file, fileSize, pos, expected, visit);
    pos = scan.validEnd;
    expected += scan.count;
    count += scan.count;
    if (scan.defect === null) return { validEnd: pos, count, damaged, tornTail: null };
    const next = await findNextIntactEntry(file, fileSize, pos, expected, lastEpoch);
    if (next === null) return { validEnd: pos, count, damaged, tornTail: scan.defect };
    const records = next.offset - expected;
    const timestampNs: bigint = lastTimestampNs ?? next.timestampNs;
    // Each damaged record gets the smallest entry size but the last, which takes the rest: the span
    // holds at least `records` minimal entries (findNextIntactEntry's bound), so all sizes are valid.
    for (let i = 0; i < records; i++) {
      const at = pos + i * ENTRY_MIN_BYTES;
      sink.damaged(expected + i, at, i + 1 < records ? ENTRY_MIN_BYTES : next.position - at, timestampNs);
    }
    damaged.push({ firstOffset: expected, lastOffset: next.offset - 1, position: pos, bytes: next.position - pos, defect: scan.defect });
    count += records;
    expected = next.offset;
    pos = next.position;
  }
}

export interface IntactEntry {
  readonly position: number;
  readonly offset: number;
  readonly timestampNs: bigint;
}

/**
 * The first intact entry after a defect at `defectPos`, where the record `expected` should have
 * been: an entry that passes every check (size bounds, CRC-32C, message layout), whose offset is
 * after `expected` by no more than the records that fit in between (each entry has at least
 * ENTRY_MIN_BYTES), and whose epoch is not below `minEpoch` (epochs never go down along a log).
 * Tried first where the damaged entry's own size field points (a damaged body), then at every byte
 * to the end of the file (a damaged size field). Reads 1 MiB at a time, plus one candidate entry
 * when it is larger; a candidate is never larger than the bytes left in the file.
 */
export async function findNextIntactEntry(file: StorageFile, fileSize: number, defectPos: number, expected: number, minEpoch: number): Promise<IntactEntry | null> {
  if (fileSize - defectPos >= ENTRY_HEADER_BYTES) {
    const header = await readFully(file, defectPos, ENTRY_HEADER_BYTES);
    const declared = header.readUInt32BE(ENTRY_SIZE_POS);
    if (declared >= MESSAGE_MIN_BYTES && declared <= MESSAGE_MAX_BYTES) {
      const found = await intactAt(file, fileSize, defectPos, defectPos + ENTRY_HEADER_BYTES + declared, expected, minEpoch, null, 0);
      if (found !== null) return found;
    }
  }
  for (let chunkStart = defectPos + 1; chunkStart + ENTRY_MIN_BYTES <= fileSize; chunkStart += SEARCH_CHUNK_BYTES) {
    const buf = await readFully(file, chunkStart, Math.min(fileSize - chunkStart, SEARCH_CHUNK_BYTES + ENTRY_HEADER_BYTES - 1));
    const positions = Math.min(SEARCH_CHUNK_BYTES, buf.length - ENTRY_HEADER_BYTES + 1);
    for (let i = 0; i < positions; i++) {
      // Synchronous header checks at every byte; only a plausible header costs a CRC (and maybe a read).
      if (!plausibleHeader(buf, i, fileSize - chunkStart - i, chunkStart + i - defectPos, expected, minEpoch)) continue;
      const found = await intactAt(file, fileSize, defectPos, chunkStart + i, expected, minEpoch, buf, chunkStart);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * Integer checks on the header at `buf[at]`: an offset after `expected` by at most the minimal
 * entries that fit in the `distance` bytes since the defect, sane size within the `bytesLeft` of
 * the file, an epoch not below `minEpoch`.
 */
function plausibleHeader(buf: Buffer, at: number, bytesLeft: number, distance: number, expected: number, minEpoch: number): boolean {
  const offset = readUint53(buf, at);
  if (offset <= expected || offset > expected + Math.floor(distance / ENTRY_MIN_BYTES)) return false;
  const size = buf.readUInt32BE(at + ENTRY_SIZE_POS);
  if (size < MESSAGE_MIN_BYTES || size > MESSAGE_MAX_BYTES || ENTRY_HEADER_BYTES + size > bytesLeft) return false;
  return readUint53(buf, at + ENTRY_LEADER_EPOCH_POS) >= minEpoch;
}

/** The entry at `position` when it is a plausible successor of the damaged record `expected` and intact. */
async function intactAt(
  file: StorageFile,
  fileSize: number,
  defectPos: number,
  position: number,
  expected: number,
  minEpoch: number,
  chunk: Buffer | null,
  chunkStart: number,
): Promise<IntactEntry | null> {
  if (fileSize - position < ENTRY_MIN_BYTES) return null;
  let buf = chunk;
  let at = position - chunkStart;
  if (buf === null || at + ENTRY_HEADER_BYTES > buf.length) {
    buf = await readFully(file, position, ENTRY_HEADER_BYTES);
    at = 0;
  }
  if (!plausibleHeader(buf, at, fileSize - position, position - defectPos, expected, minEpoch)) return null;
  const offset = readUint53(buf, at);
  const entryBytes = ENTRY_HEADER_BYTES + buf.readUInt32BE(at + ENTRY_SIZE_POS);
  if (at + entryBytes > buf.length) {
    buf = await readFully(file, position, entryBytes);
    at = 0;
  }
  if (entryDefect(buf, at, at + entryBytes, offset) !== null) return null;
  return { position, offset, timestampNs: readEntryTimestampNs(buf, at) };
}
