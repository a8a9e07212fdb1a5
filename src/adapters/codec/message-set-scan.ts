import { crc32c } from '@node-rs/crc32';
import {
  ENTRY_HEADER_BYTES,
  ENTRY_LEADER_EPOCH_POS,
  ENTRY_SIZE_POS,
  MAGIC_BYTE,
  MESSAGE_CRC_BYTES,
  MESSAGE_MAX_BYTES,
  MESSAGE_MIN_BYTES,
  NULL_LENGTH,
  readUint53,
} from './message-set-layout';

/** Why a walk over message-set bytes stopped before their end. */
export type EntryDefect =
  | 'truncated-header' // fewer than 28 bytes left
  | 'truncated-message' // the size field points past the end of the bytes
  | 'bad-size' // size outside [MESSAGE_MIN_BYTES, MESSAGE_MAX_BYTES]
  | 'bad-offset' // not the expected next offset (or not a valid int64 offset)
  | 'bad-epoch' // leader epoch not a safe integer
  | 'bad-crc' // CRC-32C mismatch
  | 'bad-layout'; // CRC fine but the lengths inside the message do not add up (or magic != 1)

export interface MessageSetScan {
  /** Bytes (from `start`) holding complete, valid, contiguous entries. */
  readonly validBytes: number;
  readonly count: number;
  /** -1 when no entry is valid. */
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Why the walk stopped before `end`; null when every byte was consumed. */
  readonly defect: EntryDefect | null;
}

/** Called for every valid entry, in order: `position` is relative to the buffer start. */
export type EntryVisitor = (offset: number, position: number, entryBytes: number) => void;

export interface ScanOptions {
  /** First byte to read (default 0). */
  readonly start?: number;
  /** One past the last byte to read (default `buf.length`). */
  readonly end?: number;
  /** Stop after this many entries (default unlimited). */
  readonly maxEntries?: number;
  /** Called for each valid entry before the next one is examined. */
  readonly visit?: EntryVisitor;
}

/**
 * Walks message-set entries and validates each one (size bounds, CRC-32C, message layout, offsets
 * contiguous from `expectedFirstOffset`, or from the first entry's offset when it is -1). It never
 * throws on bad bytes and never allocates in proportion to a size field: it reports the valid
 * prefix and the first defect, so callers decide between cutting a torn tail and refusing to serve.
 */
export function scanMessageSet(buf: Buffer, expectedFirstOffset: number, options: ScanOptions = {}): MessageSetScan {
  const start = options.start ?? 0;
  const end = options.end ?? buf.length;
  const maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
  let pos = start;
  let count = 0;
  let expected = expectedFirstOffset;
  let firstOffset = -1;
  let defect: EntryDefect | null = null;
  while (pos < end && count < maxEntries) {
    defect = entryDefect(buf, pos, end, expected);
    if (defect !== null) break;
    const offset = readUint53(buf, pos);
    const entryBytes = ENTRY_HEADER_BYTES + buf.readUInt32BE(pos + ENTRY_SIZE_POS);
    if (count === 0) firstOffset = offset;
    options.visit?.(offset, pos, entryBytes);
    expected = offset + 1;
    pos += entryBytes;
    count++;
  }
  return { validBytes: pos - start, count, firstOffset, lastOffset: count === 0 ? -1 : expected - 1, defect };
}

/** Checks the entry at `pos`; null when it is valid. `expectedOffset` -1 accepts any offset. */
export function entryDefect(buf: Buffer, pos: number, end: number, expectedOffset: number): EntryDefect | null {
  if (end - pos < ENTRY_HEADER_BYTES) return 'truncated-header';
  const offset = readUint53(buf, pos);
  if (offset < 0 || (expectedOffset >= 0 && offset !== expectedOffset)) return 'bad-offset';
  if (readUint53(buf, pos + ENTRY_LEADER_EPOCH_POS) < 0) return 'bad-epoch';
  const size = buf.readUInt32BE(pos + ENTRY_SIZE_POS);
  if (size < MESSAGE_MIN_BYTES || size > MESSAGE_MAX_BYTES) return 'bad-size';
  const messagePos = pos + ENTRY_HEADER_BYTES;
  if (end - messagePos < size) return 'truncated-message';
  const stored = buf.readUInt32BE(messagePos);
  if (crc32c(buf.subarray(messagePos + MESSAGE_CRC_BYTES, messagePos + size)) !== stored) return 'bad-crc';
  if (!messageLayoutFits(buf, messagePos, messagePos + size)) return 'bad-layout';
  return null;
}

/**
 * True when the lengths inside the message at [pos, end) exactly fill it. The CRC alone cannot
 * guarantee this (a buggy or hostile peer can checksum nonsense), and the decoder relies on it.
 */
export function messageLayoutFits(buf: Buffer, pos: number, end: number): boolean {
  if (buf[pos + MESSAGE_CRC_BYTES] !== MAGIC_BYTE) return false;
  let p = pos + MESSAGE_CRC_BYTES + 2;
  for (let field = 0; field < 2; field++) {
    if (end - p < 4) return false;
    const len = buf.readInt32BE(p);
    p += 4;
    if (len === NULL_LENGTH) continue;
    if (len < 0 || len > end - p) return false;
    p += len;
  }
  if (end - p < 2) return false;
  const headers = buf.readInt16BE(p);
  p += 2;
  if (headers < 0) return false;
  for (let i = 0; i < headers; i++) {
    if (end - p < 2) return false;
    const keyLen = buf.readInt16BE(p);
    p += 2;
    if (keyLen < 0 || keyLen > end - p) return false;
    p += keyLen;
    if (end - p < 4) return false;
    const valueLen = buf.readInt32BE(p);
    p += 4;
    if (valueLen === NULL_LENGTH) continue;
    if (valueLen < 0 || valueLen > end - p) return false;
    p += valueLen;
  }
  return p === end;
}
