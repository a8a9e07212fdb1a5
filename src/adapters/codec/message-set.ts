import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_NONE,
  ENTRY_HEADER_BYTES,
  ENTRY_LEADER_EPOCH_POS,
  ENTRY_SIZE_POS,
  ENTRY_TIMESTAMP_POS,
  HEADER_COUNT_MAX,
  HEADER_KEY_BYTES_MAX,
  MAGIC_BYTE,
  MESSAGE_CRC_BYTES,
  MESSAGE_MAX_BYTES,
  MESSAGE_MIN_BYTES,
  NULL_LENGTH,
  SERVER_HEADER_REPLY,
  SERVER_HEADER_SUBJECT,
  writeUint53,
} from './message-set-layout';
import { newRecordFieldProblem, UNSTORABLE_ENTRY_BYTES, userHeadersBytes } from './message-set-limits';

/**
 * The Liftbridge message-set codec (docs/storage.md "Message-set entry", "Encoded message"): the bytes stored in segments, sent in
 * replication responses and accepted by AppendMessageSet. Dependency-free apart from CRC-32C so
 * the storage, replication and gRPC adapters can all share it.
 */
export * from './message-set-layout';
export * from './message-set-scan';
export * from './message-set-decode';
export * from './message-set-limits';

/** A record as the leader receives it (structurally the port's `NewRecord`). */
export interface NewRecordFields {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  readonly subject: string;
  readonly reply: string;
}

/** A fully specified entry, written as given (replicated data, tests, tools). */
export interface EntryFields {
  readonly offset: number;
  readonly timestampNs: bigint;
  readonly leaderEpoch: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, Uint8Array | null>> | null;
}

const isServerHeader = (name: string): boolean => name === SERVER_HEADER_SUBJECT || name === SERVER_HEADER_REPLY;
const SUBJECT_NAME_BYTES = Buffer.byteLength(SERVER_HEADER_SUBJECT);
const REPLY_NAME_BYTES = Buffer.byteLength(SERVER_HEADER_REPLY);
const bytesOrNull = (b: Uint8Array | null): number => (b === null ? 0 : b.length);

/**
 * Encodes a leader batch into one buffer: sizes are computed first, then every entry is written in
 * place (no per-record buffers). Offsets run from `firstOffset`; every entry gets `timestampNs` and
 * `leaderEpoch`. User headers named `subject`/`reply` are dropped and the server headers of those
 * names are always written (docs/protocol.md "Data model").
 */
export function encodeNewRecords(
  records: readonly NewRecordFields[],
  firstOffset: number,
  timestampNs: bigint,
  leaderEpoch: number,
): Buffer {
  // Records of one batch nearly always share subject and reply: their header block is encoded once.
  const serverHeaders = new ServerHeaderCache();
  let total = 0;
  for (const record of records) total += ENTRY_HEADER_BYTES + newRecordMessageBytes(record, serverHeaders);
  const buf = Buffer.allocUnsafe(total);
  // One timestamp for the whole batch: its two 32-bit halves are computed once, not per record.
  const timestampHi = Number(BigInt.asUintN(32, timestampNs >> 32n));
  const timestampLo = Number(BigInt.asUintN(32, timestampNs));
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    writeUint53(buf, firstOffset + i, pos);
    buf.writeUInt32BE(timestampHi, pos + ENTRY_TIMESTAMP_POS);
    buf.writeUInt32BE(timestampLo, pos + ENTRY_TIMESTAMP_POS + 4);
    writeUint53(buf, leaderEpoch, pos + ENTRY_LEADER_EPOCH_POS);
    const messagePos = pos + ENTRY_HEADER_BYTES;
    let p = writeKeyValue(buf, messagePos, record.key, record.value);
    const countPos = p;
    p += 2;
    let count = 2;
    if (record.headers !== null) {
      for (const name in record.headers) {
        if (isServerHeader(name)) continue;
        p = writeHeader(buf, p, name, record.headers[name]!);
        count++;
      }
    }
    const block = serverHeaders.block(record.subject, record.reply);
    buf.set(block, p);
    p += block.length;
    buf.writeInt16BE(count, countPos);
    pos = finishMessage(buf, pos, messagePos, p);
  }
  if (pos !== total) throw new Error(`encodeNewRecords wrote ${pos} of ${total} bytes`);
  return buf;
}

/** The encoded `subject` and `reply` server headers for the last (subject, reply) pair seen. */
class ServerHeaderCache {
  private subject: string | null = null;
  private reply: string | null = null;
  private encoded: Buffer = Buffer.alloc(0);

  block(subject: string, reply: string): Buffer {
    if (subject === this.subject && reply === this.reply) return this.encoded;
    const size = 12 + SUBJECT_NAME_BYTES + REPLY_NAME_BYTES + Buffer.byteLength(subject) + Buffer.byteLength(reply);
    const buf = Buffer.allocUnsafe(size);
    const end = writeStringHeader(buf, writeStringHeader(buf, 0, SERVER_HEADER_SUBJECT, subject), SERVER_HEADER_REPLY, reply);
    if (end !== size) throw new Error(`server headers: wrote ${end} of ${size} bytes`);
    this.subject = subject;
    this.reply = reply;
    this.encoded = buf;
    return buf;
  }
}

/** Encodes entries exactly as given (no server headers added), in one buffer. */
export function encodeEntries(entries: readonly EntryFields[]): Buffer {
  let total = 0;
  for (const entry of entries) total += ENTRY_HEADER_BYTES + entryMessageBytes(entry);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const entry of entries) {
    const messagePos = writeEntryHeader(buf, pos, entry.offset, entry.timestampNs, entry.leaderEpoch);
    let p = writeKeyValue(buf, messagePos, entry.key, entry.value);
    const names = entry.headers === null ? [] : Object.keys(entry.headers);
    buf.writeInt16BE(names.length, p);
    p += 2;
    for (const name of names) p = writeHeader(buf, p, name, entry.headers![name]!);
    pos = finishMessage(buf, pos, messagePos, p);
  }
  if (pos !== total) throw new Error(`encodeEntries wrote ${pos} of ${total} bytes`);
  return buf;
}

/**
 * Encoded message length (without the 28-byte entry header) of a leader record. Throws RangeError
 * for a record the format cannot hold (message-set-limits.ts): edges refuse those before they get here.
 */
export function newRecordMessageBytes(record: NewRecordFields, serverHeaders: ServerHeaderCache = new ServerHeaderCache()): number {
  const headerBytes = userHeadersBytes(record.headers);
  if (headerBytes === UNSTORABLE_ENTRY_BYTES) throw new RangeError(newRecordFieldProblem(record.key, record.value, record.headers) ?? 'record cannot be stored');
  const bytes = MESSAGE_MIN_BYTES + bytesOrNull(record.key) + bytesOrNull(record.value) + headerBytes + serverHeaders.block(record.subject, record.reply).length;
  if (bytes > MESSAGE_MAX_BYTES) throw new RangeError(`message of ${bytes} bytes exceeds ${MESSAGE_MAX_BYTES}`);
  return bytes;
}

function entryMessageBytes(entry: EntryFields): number {
  let bytes = MESSAGE_MIN_BYTES + bytesOrNull(entry.key) + bytesOrNull(entry.value);
  const names = entry.headers === null ? [] : Object.keys(entry.headers);
  if (names.length > HEADER_COUNT_MAX) throw new RangeError(`too many headers: ${names.length}`);
  for (const name of names) bytes += headerBytes(name, entry.headers![name]!);
  if (bytes > MESSAGE_MAX_BYTES) throw new RangeError(`message of ${bytes} bytes exceeds ${MESSAGE_MAX_BYTES}`);
  return bytes;
}

function headerBytes(name: string, value: Uint8Array | null): number {
  const nameBytes = Buffer.byteLength(name);
  if (nameBytes > HEADER_KEY_BYTES_MAX) throw new RangeError(`header name of ${nameBytes} bytes is too long`);
  return 6 + nameBytes + bytesOrNull(value);
}

/** Writes offset, timestamp and epoch, leaves the size for `finishMessage`; returns the message start. */
function writeEntryHeader(buf: Buffer, pos: number, offset: number, timestampNs: bigint, leaderEpoch: number): number {
  writeUint53(buf, offset, pos);
  buf.writeBigInt64BE(timestampNs, pos + ENTRY_TIMESTAMP_POS);
  writeUint53(buf, leaderEpoch, pos + ENTRY_LEADER_EPOCH_POS);
  return pos + ENTRY_HEADER_BYTES;
}

/** Writes magic, attributes, key and value; returns the position of the header count. */
function writeKeyValue(buf: Buffer, messagePos: number, key: Uint8Array | null, value: Uint8Array | null): number {
  let p = messagePos + MESSAGE_CRC_BYTES;
  buf[p++] = MAGIC_BYTE;
  buf[p++] = ATTRIBUTES_NONE;
  p = writeBytes(buf, p, key);
  return writeBytes(buf, p, value);
}

function writeBytes(buf: Buffer, p: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    buf.writeInt32BE(NULL_LENGTH, p);
    return p + 4;
  }
  buf.writeInt32BE(bytes.length, p);
  buf.set(bytes, p + 4);
  return p + 4 + bytes.length;
}

function writeHeader(buf: Buffer, p: number, name: string, value: Uint8Array | null): number {
  const nameBytes = buf.write(name, p + 2, 'utf8');
  buf.writeInt16BE(nameBytes, p);
  return writeBytes(buf, p + 2 + nameBytes, value);
}

function writeStringHeader(buf: Buffer, p: number, name: string, value: string): number {
  const nameBytes = buf.write(name, p + 2, 'latin1');
  buf.writeInt16BE(nameBytes, p);
  p += 2 + nameBytes;
  const valueBytes = buf.write(value, p + 4, 'utf8');
  buf.writeInt32BE(valueBytes, p);
  return p + 4 + valueBytes;
}

/** Fills in the size and the CRC once the message body is written; returns the next entry position. */
function finishMessage(buf: Buffer, entryPos: number, messagePos: number, end: number): number {
  buf.writeUInt32BE(end - messagePos, entryPos + ENTRY_SIZE_POS);
  buf.writeUInt32BE(crc32c(buf.subarray(messagePos + MESSAGE_CRC_BYTES, end)), messagePos);
  return end;
}
