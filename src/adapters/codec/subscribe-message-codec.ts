import { assert } from '../../domain/shared/assert';
import { GRPC_FRAME_PREFIX_BYTES, writeGrpcFramePrefix } from '../../protocol/grpc-raw-frames';
import { MessageEntryCorruptError } from '../../protocol/codec-errors';
import { headerEntrySize } from '../../protocol/publish-message-codec';
import {
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  fieldKey,
  int32Size,
  lengthDelimitedFieldSize,
  varint64Size,
  writeBytesField,
  writeInt32,
  writeStringField,
  writeVarint32,
  writeVarint64,
} from '../../protocol/protobuf-wire';

/**
 * Turns stored message-set entries straight into the protobuf bytes of the `proto.Message` that
 * Subscribe streams, without building JS objects: varints are written from the big-endian words of
 * the entry header and byte ranges are copied.
 *
 * Entry (docs/storage.md "Message-set entry"): offset int64 BE | timestamp int64 BE (ns) | leader epoch uint64 BE |
 * size uint32 BE | encoded message (docs/storage.md "Encoded message"): CRC uint32 | magic int8 | attributes int8 |
 * key len int32 (-1 null) + key | value len int32 (-1 null) + value | header count int16 |
 * per header: key len int16 + key, value len int32 (-1 null) + value.
 *
 * Output (field order as Go marshals it): offset 1, key 2 (omitted when null or empty), value 3,
 * timestamp 4, stream 5, partition 6, subject 7 (stored header "subject"), replySubject 8 (stored
 * header "reply"), headers 9 (every stored header, including "subject" and "reply"). Proto3
 * defaults are omitted. The CRC is not checked here: the log reader owns corruption detection.
 */

export const MESSAGE_SET_ENTRY_HEADER_BYTES = 28;
const ENTRY_SIZE_AT = 24;
const MESSAGE_KEY_LENGTH_AT = 6; // after CRC (4), magic (1), attributes (1)

const F_OFFSET = 1;
const F_KEY = 2;
const F_VALUE = 3;
const F_TIMESTAMP = 4;
const F_STREAM = 5;
const F_PARTITION = 6;
const F_SUBJECT = 7;
const F_REPLY_SUBJECT = 8;
const F_HEADERS = 9;
const F_MAP_KEY = 1;
const F_MAP_VALUE = 2;

const SUBJECT_HEADER: readonly number[] = [...Buffer.from('subject', 'latin1')];
const REPLY_HEADER: readonly number[] = [...Buffer.from('reply', 'latin1')];

/** Positions found by scanning one entry; reused across the entries of one call. */
class EntryLayout {
  entryEnd = 0;
  offsetHi = 0;
  offsetLo = 0;
  timestampHi = 0;
  timestampLo = 0;
  keyStart = 0;
  keyLength = 0; // 0 also for null
  valueStart = 0;
  valueLength = 0;
  headerCount = 0;
  headersStart = 0;
  headersSize = 0;
  subjectStart = 0;
  subjectLength = 0;
  replyStart = 0;
  replyLength = 0;
}

/**
 * Encodes the entries of one partition for one subscription. The stream and partition fields are
 * encoded once, at construction. Holds no mutable state.
 */
export class SubscribeMessageEncoder {
  private readonly constantFields: Buffer;

  constructor(stream: string, partition: number) {
    assert(Number.isInteger(partition) && partition >= 0 && partition <= 0x7fffffff, 'partition is not a valid int32');
    const streamBytes = Buffer.byteLength(stream, 'utf8');
    const size = (streamBytes > 0 ? lengthDelimitedFieldSize(streamBytes) : 0) + (partition > 0 ? 1 + int32Size(partition) : 0);
    const fields = Buffer.alloc(size);
    let pos = 0;
    if (streamBytes > 0) pos = writeStringField(fields, pos, F_STREAM, stream, streamBytes);
    if (partition > 0) {
      fields[pos++] = fieldKey(F_PARTITION, WIRE_VARINT);
      pos = writeInt32(fields, pos, partition);
    }
    assert(pos === size, 'constant Subscribe fields sized wrongly');
    this.constantFields = fields;
  }

  /** The `proto.Message` bytes of the entry at `entries[entryStart]`. */
  encode(entries: Buffer, entryStart: number): Buffer {
    const layout = new EntryLayout();
    scanEntry(entries, entryStart, layout);
    return this.write(entries, layout);
  }

  /**
   * Encodes `count` consecutive entries starting at `entries[start]`; throws
   * MessageEntryCorruptError if fewer than `count` complete entries are there.
   */
  encodeBatch(entries: Buffer, count: number, start = 0): Buffer[] {
    assert(Number.isSafeInteger(count) && count >= 0, 'entry count must be a non-negative integer');
    const layout = new EntryLayout();
    const out: Buffer[] = [];
    let at = start;
    for (let i = 0; i < count; i++) {
      scanEntry(entries, at, layout);
      out.push(this.write(entries, layout));
      at = layout.entryEnd;
    }
    return out;
  }

  /**
   * Encodes `count` consecutive entries as gRPC length-prefixed messages in one buffer: per
   * message a compressed flag (0) and a uint32 BE length, then the `proto.Message` bytes — the
   * bytes a gRPC server writes to the HTTP/2 stream for these messages, ready for one write.
   */
  encodeFrames(entries: Buffer, count: number, start = 0): Buffer {
    assert(Number.isSafeInteger(count) && count >= 0, 'entry count must be a non-negative integer');
    const layout = new EntryLayout();
    let total = 0;
    let at = start;
    for (let i = 0; i < count; i++) {
      scanEntry(entries, at, layout);
      total += GRPC_FRAME_PREFIX_BYTES + this.size(layout);
      at = layout.entryEnd;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    at = start;
    for (let i = 0; i < count; i++) {
      scanEntry(entries, at, layout);
      const size = this.size(layout);
      pos = this.writeAt(entries, layout, out, writeGrpcFramePrefix(out, pos, size), size);
      at = layout.entryEnd;
    }
    assert(pos === total, 'Subscribe frames sized wrongly');
    return out;
  }

  private size(l: EntryLayout): number {
    return (
      (l.offsetHi !== 0 || l.offsetLo !== 0 ? 1 + varint64Size(l.offsetHi, l.offsetLo) : 0) +
      (l.keyLength > 0 ? lengthDelimitedFieldSize(l.keyLength) : 0) +
      (l.valueLength > 0 ? lengthDelimitedFieldSize(l.valueLength) : 0) +
      (l.timestampHi !== 0 || l.timestampLo !== 0 ? 1 + varint64Size(l.timestampHi, l.timestampLo) : 0) +
      this.constantFields.length +
      (l.subjectLength > 0 ? lengthDelimitedFieldSize(l.subjectLength) : 0) +
      (l.replyLength > 0 ? lengthDelimitedFieldSize(l.replyLength) : 0) +
      l.headersSize
    );
  }

  private write(entries: Buffer, l: EntryLayout): Buffer {
    const size = this.size(l);
    const out = Buffer.allocUnsafe(size);
    this.writeAt(entries, l, out, 0, size);
    return out;
  }

  /** Writes the message at `out[start]`; returns the position after it (asserted to be start + size). */
  private writeAt(entries: Buffer, l: EntryLayout, out: Buffer, start: number, size: number): number {
    const hasOffset = l.offsetHi !== 0 || l.offsetLo !== 0;
    const hasTimestamp = l.timestampHi !== 0 || l.timestampLo !== 0;
    let pos = start;
    if (hasOffset) {
      out[pos++] = fieldKey(F_OFFSET, WIRE_VARINT);
      pos = writeVarint64(out, pos, l.offsetHi, l.offsetLo);
    }
    if (l.keyLength > 0) pos = writeBytesField(out, pos, F_KEY, entries, l.keyStart, l.keyStart + l.keyLength);
    if (l.valueLength > 0) pos = writeBytesField(out, pos, F_VALUE, entries, l.valueStart, l.valueStart + l.valueLength);
    if (hasTimestamp) {
      out[pos++] = fieldKey(F_TIMESTAMP, WIRE_VARINT);
      pos = writeVarint64(out, pos, l.timestampHi, l.timestampLo);
    }
    pos += this.constantFields.copy(out, pos);
    if (l.subjectLength > 0) {
      pos = writeBytesField(out, pos, F_SUBJECT, entries, l.subjectStart, l.subjectStart + l.subjectLength);
    }
    if (l.replyLength > 0) {
      pos = writeBytesField(out, pos, F_REPLY_SUBJECT, entries, l.replyStart, l.replyStart + l.replyLength);
    }
    pos = writeHeaders(entries, l, out, pos);
    assert(pos === start + size, 'Subscribe message sized wrongly');
    return pos;
  }
}

/** Convenience for a single entry; prefer one SubscribeMessageEncoder per subscription. */
export function encodeSubscribeMessage(entries: Buffer, entryStart: number, stream: string, partition: number): Buffer {
  return new SubscribeMessageEncoder(stream, partition).encode(entries, entryStart);
}

/** Encodes `count` consecutive entries starting at `entries[start]` (constant fields encoded once). */
export function encodeSubscribeBatch(entries: Buffer, count: number, stream: string, partition: number, start = 0): Buffer[] {
  return new SubscribeMessageEncoder(stream, partition).encodeBatch(entries, count, start);
}

/** The position right after the entry starting at `entryStart` (validated like `encode`). */
export function messageSetEntryEnd(entries: Buffer, entryStart: number): number {
  const layout = new EntryLayout();
  scanEntry(entries, entryStart, layout);
  return layout.entryEnd;
}

// ---------------------------------------------------------------------------------------------

function scanEntry(entries: Buffer, entryStart: number, l: EntryLayout): void {
  if (!Number.isSafeInteger(entryStart) || entryStart < 0 || entryStart + MESSAGE_SET_ENTRY_HEADER_BYTES > entries.length) {
    throw corrupt(entryStart, 'entry header is truncated');
  }
  const messageStart = entryStart + MESSAGE_SET_ENTRY_HEADER_BYTES;
  const messageEnd = messageStart + entries.readUInt32BE(entryStart + ENTRY_SIZE_AT);
  if (messageEnd > entries.length) throw corrupt(entryStart, 'entry size runs past the end of the buffer');
  l.entryEnd = messageEnd;
  l.offsetHi = entries.readUInt32BE(entryStart);
  l.offsetLo = entries.readUInt32BE(entryStart + 4);
  l.timestampHi = entries.readUInt32BE(entryStart + 8);
  l.timestampLo = entries.readUInt32BE(entryStart + 12);

  let p = messageStart + MESSAGE_KEY_LENGTH_AT;
  need(entryStart, p, 4, messageEnd);
  const keyLength = entries.readInt32BE(p);
  p += 4;
  if (keyLength < -1) throw corrupt(entryStart, `negative key length ${keyLength}`);
  l.keyStart = p;
  l.keyLength = Math.max(keyLength, 0);
  need(entryStart, p, l.keyLength, messageEnd);
  p += l.keyLength;

  need(entryStart, p, 4, messageEnd);
  const valueLength = entries.readInt32BE(p);
  p += 4;
  if (valueLength < -1) throw corrupt(entryStart, `negative value length ${valueLength}`);
  l.valueStart = p;
  l.valueLength = Math.max(valueLength, 0);
  need(entryStart, p, l.valueLength, messageEnd);
  p += l.valueLength;

  need(entryStart, p, 2, messageEnd);
  const headerCount = entries.readInt16BE(p);
  p += 2;
  if (headerCount < 0) throw corrupt(entryStart, `negative header count ${headerCount}`);
  l.headerCount = headerCount;
  l.headersStart = p;
  l.headersSize = 0;
  l.subjectLength = 0;
  l.replyLength = 0;
  for (let i = 0; i < headerCount; i++) {
    need(entryStart, p, 2, messageEnd);
    const nameLength = entries.readInt16BE(p);
    p += 2;
    if (nameLength < 0) throw corrupt(entryStart, `negative header name length ${nameLength}`);
    need(entryStart, p, nameLength, messageEnd);
    const nameStart = p;
    p += nameLength;
    need(entryStart, p, 4, messageEnd);
    const storedValueLength = entries.readInt32BE(p);
    p += 4;
    if (storedValueLength < -1) throw corrupt(entryStart, `negative header value length ${storedValueLength}`);
    const headerValueLength = Math.max(storedValueLength, 0);
    need(entryStart, p, headerValueLength, messageEnd);
    if (bytesEqual(entries, nameStart, nameLength, SUBJECT_HEADER)) {
      l.subjectStart = p;
      l.subjectLength = headerValueLength;
    } else if (bytesEqual(entries, nameStart, nameLength, REPLY_HEADER)) {
      l.replyStart = p;
      l.replyLength = headerValueLength;
    }
    l.headersSize += lengthDelimitedFieldSize(headerEntrySize(nameLength, headerValueLength));
    p += headerValueLength;
  }
}

function writeHeaders(entries: Buffer, l: EntryLayout, out: Buffer, pos: number): number {
  let p = l.headersStart;
  for (let i = 0; i < l.headerCount; i++) {
    const nameLength = entries.readInt16BE(p);
    const nameStart = p + 2;
    p = nameStart + nameLength;
    const valueLength = Math.max(entries.readInt32BE(p), 0);
    const valueStart = p + 4;
    p = valueStart + valueLength;
    out[pos++] = fieldKey(F_HEADERS, WIRE_LENGTH_DELIMITED);
    pos = writeVarint32(out, pos, headerEntrySize(nameLength, valueLength));
    pos = writeBytesField(out, pos, F_MAP_KEY, entries, nameStart, nameStart + nameLength);
    pos = writeBytesField(out, pos, F_MAP_VALUE, entries, valueStart, valueStart + valueLength);
  }
  return pos;
}

function need(entryStart: number, at: number, bytes: number, messageEnd: number): void {
  if (at + bytes > messageEnd) throw corrupt(entryStart, `field at byte ${at} runs past the end of the message`);
}

function bytesEqual(buf: Buffer, start: number, length: number, expected: readonly number[]): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

function corrupt(entryStart: number, reason: string): MessageEntryCorruptError {
  return new MessageEntryCorruptError(`message-set entry at byte ${entryStart}: ${reason}`);
}
