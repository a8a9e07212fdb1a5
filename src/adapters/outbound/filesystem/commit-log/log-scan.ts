import {
  ENTRY_HEADER_BYTES,
  EntryDefect,
  readEntryMessageBytes,
  scanMessageSet,
} from '../../../codec/message-set';
import { StorageFile } from '../file-system';
import { readFully } from './file-io';

/** Read size for scanning a `.log` file: bounded memory however large the segment or its size fields. */
const SCAN_CHUNK_BYTES = 1 << 20;

/** A valid entry found by `scanLogFile`: `buf[bufPos]` is its first byte, at `filePos` in the file. */
export type LogEntryVisitor = (buf: Buffer, bufPos: number, filePos: number, offset: number, entryBytes: number) => void;

export interface LogFileScan {
  /** File position just past the last valid entry. */
  readonly validEnd: number;
  readonly count: number;
  /** Why the scan stopped before `fileSize`; null when the whole range is valid. */
  readonly defect: EntryDefect | null;
}

/**
 * Validates the entries of a `.log` file from `startPos` (which must hold `startOffset`) to
 * `fileSize`, chunk by chunk. Never allocates more than max(1 MiB, one entry), and an entry is
 * only as large as the bytes left in the file, so a garbage size field costs nothing (D6).
 */
export async function scanLogFile(
  file: StorageFile,
  fileSize: number,
  startPos: number,
  startOffset: number,
  visit: LogEntryVisitor,
): Promise<LogFileScan> {
  let pos = startPos;
  let expected = startOffset;
  let count = 0;
  let need = 0;
  while (pos < fileSize) {
    const chunkStart = pos;
    const length = Math.min(fileSize - pos, Math.max(SCAN_CHUNK_BYTES, need));
    const buf = await readFully(file, pos, length);
    const scan = scanMessageSet(buf, expected, {
      visit: (offset, bufPos, entryBytes) => visit(buf, bufPos, chunkStart + bufPos, offset, entryBytes),
    });
    pos += scan.validBytes;
    count += scan.count;
    if (scan.count > 0) expected = scan.lastOffset + 1;
    if (scan.defect === null) {
      need = 0;
      continue;
    }
    const reachedEnd = chunkStart + length === fileSize;
    const straddles = scan.defect === 'truncated-header' || scan.defect === 'truncated-message';
    if (!straddles || reachedEnd) return { validEnd: pos, count, defect: scan.defect };
    // The entry continues past this chunk: read again from its start with room for all of it.
    need = scan.defect === 'truncated-header' ? ENTRY_HEADER_BYTES : ENTRY_HEADER_BYTES + readEntryMessageBytes(buf, scan.validBytes);
  }
  return { validEnd: pos, count, defect: null };
}
