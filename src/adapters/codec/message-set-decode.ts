import { MessageEntryCorruptError } from '../../protocol/codec-errors';
import {
  ENTRY_HEADER_BYTES,
  MESSAGE_CRC_BYTES,
  NULL_LENGTH,
  readEntryLeaderEpoch,
  readEntryMessageBytes,
  readEntryOffset,
  readEntryTimestampNs,
} from './message-set-layout';
import { entryDefect, scanMessageSet } from './message-set-scan';

/** One entry with its message fields. Byte fields are views into the decoded buffer, not copies. */
export interface DecodedEntry {
  readonly offset: number;
  readonly timestampNs: bigint;
  readonly leaderEpoch: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** User and server headers (`subject`, `reply`); null values are possible in the format. */
  readonly headers: Record<string, Buffer | null>;
  /** 28 + the encoded message length. */
  readonly entryBytes: number;
}

/**
 * Decodes the entry at `pos`, validating it first (size, CRC, layout). Throws
 * `MessageEntryCorruptError` on bad bytes: callers reading from disk or the network catch it.
 */
export function decodeEntry(buf: Buffer, pos = 0): DecodedEntry {
  const defect = entryDefect(buf, pos, buf.length, -1);
  if (defect !== null) throw new MessageEntryCorruptError(`message-set entry at byte ${pos}: ${defect}`);
  const messageBytes = readEntryMessageBytes(buf, pos);
  let p = pos + ENTRY_HEADER_BYTES + MESSAGE_CRC_BYTES + 2; // after crc, magic, attributes
  const keyLen = buf.readInt32BE(p);
  p += 4;
  const key = keyLen === NULL_LENGTH ? null : buf.subarray(p, p + keyLen);
  p += Math.max(keyLen, 0);
  const valueLen = buf.readInt32BE(p);
  p += 4;
  const value = valueLen === NULL_LENGTH ? null : buf.subarray(p, p + valueLen);
  p += Math.max(valueLen, 0);
  const headerCount = buf.readInt16BE(p);
  p += 2;
  const headers: Record<string, Buffer | null> = {};
  for (let i = 0; i < headerCount; i++) {
    const nameLen = buf.readInt16BE(p);
    p += 2;
    const name = buf.toString('utf8', p, p + nameLen);
    p += nameLen;
    const len = buf.readInt32BE(p);
    p += 4;
    headers[name] = len === NULL_LENGTH ? null : buf.subarray(p, p + len);
    p += Math.max(len, 0);
  }
  return {
    offset: readEntryOffset(buf, pos),
    timestampNs: readEntryTimestampNs(buf, pos),
    leaderEpoch: readEntryLeaderEpoch(buf, pos),
    key,
    value,
    headers,
    entryBytes: ENTRY_HEADER_BYTES + messageBytes,
  };
}

/** Decodes every entry of a message set (offsets must be contiguous); throws on any defect. */
export function decodeMessageSet(buf: Buffer): DecodedEntry[] {
  const scan = scanMessageSet(buf, -1);
  if (scan.defect !== null) {
    throw new MessageEntryCorruptError(`message set: ${scan.defect} at byte ${scan.validBytes}`);
  }
  const entries: DecodedEntry[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const entry = decodeEntry(buf, pos);
    entries.push(entry);
    pos += entry.entryBytes;
  }
  return entries;
}
