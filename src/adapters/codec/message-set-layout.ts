/**
 * Byte layout of a Liftbridge message-set entry (docs/storage.md "Message-set entry") and its encoded message (docs/storage.md "Encoded message").
 * Shared by the encoder, the validating walker and the decoder; everything is big-endian.
 *
 *   entry   = offset int64 | timestamp int64 (Unix ns) | leader epoch uint64 | size uint32 | message
 *   message = crc uint32 | magic int8 | attributes int8 | key len int32 + key | value len int32 + value
 *             | header count int16 | per header: key len int16 + UTF-8 key, value len int32 + value
 */
export const ENTRY_HEADER_BYTES = 28;
export const ENTRY_OFFSET_POS = 0;
export const ENTRY_TIMESTAMP_POS = 8;
export const ENTRY_LEADER_EPOCH_POS = 16;
export const ENTRY_SIZE_POS = 24;

export const MESSAGE_CRC_BYTES = 4;
/** crc 4 + magic 1 + attributes 1 + key len 4 + value len 4 + header count 2. */
export const MESSAGE_MIN_BYTES = 16;
/** Upper bound on one encoded message; Liftbridge's index rebuild stops at sizes outside 0-100 MiB. */
export const MESSAGE_MAX_BYTES = 100 * 1024 * 1024;
export const ENTRY_MIN_BYTES = ENTRY_HEADER_BYTES + MESSAGE_MIN_BYTES;
export const ENTRY_MAX_BYTES = ENTRY_HEADER_BYTES + MESSAGE_MAX_BYTES;

export const MAGIC_BYTE = 1;
export const ATTRIBUTES_NONE = 0;
/** Length written for a null key, value or header value. */
export const NULL_LENGTH = -1;
export const HEADER_COUNT_MAX = 0x7fff;
export const HEADER_KEY_BYTES_MAX = 0x7fff;

/** Server headers (docs/protocol.md "Data model"): they overwrite user headers of the same names. */
export const SERVER_HEADER_SUBJECT = 'subject';
export const SERVER_HEADER_REPLY = 'reply';

const TWO_POW_32 = 4294967296;
/** High 32 bits of the largest safe integer (2^53 - 1). */
const SAFE_HIGH_MAX = 0x1fffff;

/** Writes a non-negative safe integer as a big-endian 64-bit value without allocating a bigint. */
export function writeUint53(buf: Buffer, value: number, pos: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

/** Reads a big-endian 64-bit value; -1 when it is negative or not a safe integer. */
export function readUint53(buf: Buffer, pos: number): number {
  const high = buf.readUInt32BE(pos);
  if (high > SAFE_HIGH_MAX) return -1;
  return high * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

export const readEntryOffset = (buf: Buffer, entryPos: number): number => readUint53(buf, entryPos + ENTRY_OFFSET_POS);
export const readEntryTimestampNs = (buf: Buffer, entryPos: number): bigint => buf.readBigInt64BE(entryPos + ENTRY_TIMESTAMP_POS);
export const readEntryLeaderEpoch = (buf: Buffer, entryPos: number): number => readUint53(buf, entryPos + ENTRY_LEADER_EPOCH_POS);
/** Length of the encoded message after the 28-byte header. */
export const readEntryMessageBytes = (buf: Buffer, entryPos: number): number => buf.readUInt32BE(entryPos + ENTRY_SIZE_POS);
