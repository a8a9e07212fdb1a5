import { assert } from '../domain/shared/assert';
import { ProtobufEncodeError } from './codec-errors';
import { ENVELOPE_HEADER_BYTES, MsgType, writeEnvelopeHeader } from './envelope';
import {
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  WireReader,
  assertInt64,
  fieldKey,
  hiWord,
  int32Size,
  lengthDelimitedFieldSize,
  loWord,
  varint64Size,
  writeBytesField,
  writeInt32,
  writeStringField,
  writeVarint32,
  writeVarint64,
} from './protobuf-wire';

/**
 * Hand-written codec for the payload of a Publish envelope (MsgType 0): a `proto.Message` as a
 * producer sends it (docs/protocol.md "Message", "In a publish envelope" column; "Publishing over NATS").
 */

/** `proto.Message` field numbers. */
const F_OFFSET = 1;
const F_KEY = 2;
const F_VALUE = 3;
const F_TIMESTAMP = 4;
const F_STREAM = 5;
const F_PARTITION = 6;
const F_SUBJECT = 7;
const F_REPLY_SUBJECT = 8;
const F_HEADERS = 9;
const F_ACK_INBOX = 10;
const F_CORRELATION_ID = 11;
const F_ACK_POLICY = 12;
const F_MAP_KEY = 1;
const F_MAP_VALUE = 2;

/** What ingest needs from a published `proto.Message`. Buffers are views into the input. */
export interface PublishMessage {
  /**
   * Field 1 as sent (0 when absent: proto3 cannot tell 0 from absent). Clients send -1 for
   * "no optimistic-concurrency check" (docs/protocol.md "Publishing over NATS"); whether an absent field means 0 (Go) or -1 is
   * the caller's decision, made with `hasExpectedOffset`.
   */
  readonly expectedOffset: number;
  readonly hasExpectedOffset: boolean;
  /** null when the field is absent; an empty Buffer when present with length 0 (empty ≠ no key). */
  readonly key: Buffer | null;
  /** null when the field is absent. */
  readonly value: Buffer | null;
  /** null when there is no header entry at all; a null-prototype record otherwise. */
  readonly headers: Record<string, Buffer> | null;
  readonly ackInbox: string;
  readonly correlationId: string;
  /** An AckPolicy value; proto3 enums are open, so it may be out of range (validate upstream). */
  readonly ackPolicy: number;
}

/**
 * Decodes `buf[start, end)` as a published `proto.Message`. Stream, partition, subject, reply
 * subject and timestamp are skipped (ignored on ingest). Unknown fields are skipped. Throws
 * ProtobufDecodeError on truncated varints, lengths past the end, a wrong wire type on a known
 * field or an unterminated/over-nested group; a huge length prefix is compared with the bytes left
 * before anything is read, so it never causes an allocation.
 */
export function decodePublishMessage(buf: Buffer, start: number, end: number, inboxes?: RepeatedUtf8Decoder): PublishMessage {
  const r = new WireReader(buf, start, end);
  let expectedOffset = 0;
  let hasExpectedOffset = false;
  let key: Buffer | null = null;
  let value: Buffer | null = null;
  let headers: Record<string, Buffer> | null = null;
  let ackInbox = '';
  let correlationId = '';
  let ackPolicy = 0;
  while (!r.done) {
    const tag = r.readKey();
    const field = tag >>> 3;
    switch (field) {
      case F_OFFSET:
        r.expectWireType(tag, WIRE_VARINT);
        expectedOffset = r.readInt64AsNumber('expected offset');
        hasExpectedOffset = true;
        break;
      case F_KEY:
        key = readBytes(r, tag);
        break;
      case F_VALUE:
        value = readBytes(r, tag);
        break;
      case F_HEADERS:
        r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
        headers ??= Object.create(null) as Record<string, Buffer>;
        readHeaderEntry(r, headers);
        break;
      case F_ACK_INBOX:
        if (inboxes === undefined) ackInbox = readString(r, tag);
        else {
          r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
          const inboxStart = r.readLengthDelimited();
          ackInbox = inboxes.decode(buf, inboxStart, r.pos);
        }
        break;
      case F_CORRELATION_ID:
        correlationId = readString(r, tag);
        break;
      case F_ACK_POLICY:
        ackPolicy = r.readInt32Field(tag);
        break;
      case F_TIMESTAMP:
      case F_PARTITION:
        r.expectWireType(tag, WIRE_VARINT);
        r.readVarint64();
        break;
      case F_STREAM:
      case F_SUBJECT:
      case F_REPLY_SUBJECT:
        r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
        r.readLengthDelimited();
        break;
      default:
        r.skip(tag & 7, field);
    }
  }
  return { expectedOffset, hasExpectedOffset, key, value, headers, ackInbox, correlationId, ackPolicy };
}

/**
 * Decodes UTF-8 byte ranges, returning the previous string when the bytes repeat: a producer sends
 * the same ack inbox with every message, so the ingest path compares a few bytes instead of
 * decoding a string per message (and downstream checks can compare by identity).
 */
export class RepeatedUtf8Decoder {
  private last: Buffer = Buffer.alloc(0);
  private lastString = '';

  decode(buf: Buffer, start: number, end: number): string {
    const last = this.last;
    const length = end - start;
    if (length === last.length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (buf[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastString;
    }
    this.last = Buffer.from(buf.subarray(start, end));
    this.lastString = buf.toString('utf8', start, end);
    return this.lastString;
  }
}

/** A bytes field as a view into the input; the key has been read. Shared with publish-request-codec.ts. */
export function readBytes(r: WireReader, tag: number): Buffer {
  r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
  const start = r.readLengthDelimited();
  return r.buf.subarray(start, r.pos);
}

/** A string field (UTF-8, invalid sequences replaced as Go's and protobufjs's decoders do); key read. */
export function readString(r: WireReader, tag: number): string {
  r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
  const start = r.readLengthDelimited();
  return r.buf.toString('utf8', start, r.pos);
}

/**
 * One `map<string, bytes>` entry; missing key/value default to "" / empty; last duplicate wins.
 * Shared with publish-request-codec.ts so that both publish paths read headers identically.
 */
export function readHeaderEntry(r: WireReader, headers: Record<string, Buffer>): void {
  const entryStart = r.readLengthDelimited();
  const entryEnd = r.pos;
  const entry = new WireReader(r.buf, entryStart, entryEnd);
  let name = '';
  let value: Buffer | null = null;
  while (!entry.done) {
    const tag = entry.readKey();
    const field = tag >>> 3;
    if (field === F_MAP_KEY) name = readString(entry, tag);
    else if (field === F_MAP_VALUE) value = readBytes(entry, tag);
    else entry.skip(tag & 7, field);
  }
  headers[name] = value ?? r.buf.subarray(entryEnd, entryEnd);
}

// ---------------------------------------------------------------------------------------------

/** A message to publish on a partition subject (server-side Publish RPCs, docs/protocol.md "Publishing over NATS"). */
export interface PublishEnvelopeInput {
  readonly key?: Uint8Array | null;
  readonly value?: Uint8Array | null;
  readonly headers?: Readonly<Record<string, Uint8Array>> | null;
  readonly ackInbox?: string;
  readonly correlationId?: string;
  readonly ackPolicy?: number;
  /** Goes into Message.offset; -1 = no optimistic-concurrency check (the Go client default). */
  readonly expectedOffset?: bigint | number;
  readonly stream?: string;
  readonly subject?: string;
}

/**
 * Encodes a MsgType-0 envelope around a `proto.Message` in one allocation. A non-null key or value
 * is written even when empty, so that "empty" and "absent" stay distinct for decoders that track
 * presence (ours, and Go's, which keeps a non-nil empty slice). Other defaults are omitted.
 */
export function encodePublishEnvelope(input: PublishEnvelopeInput): Buffer {
  const expectedOffset = input.expectedOffset ?? 0;
  assertInt64(expectedOffset, 'expectedOffset');
  const offsetHi = hiWord(expectedOffset);
  const offsetLo = loWord(expectedOffset);
  const ackPolicy = input.ackPolicy ?? 0;
  if (!Number.isInteger(ackPolicy) || ackPolicy < -0x80000000 || ackPolicy > 0x7fffffff) {
    throw new ProtobufEncodeError(`ackPolicy is not an int32: ${ackPolicy}`);
  }
  const stream = input.stream ?? '';
  const subject = input.subject ?? '';
  const ackInbox = input.ackInbox ?? '';
  const correlationId = input.correlationId ?? '';
  const streamBytes = Buffer.byteLength(stream, 'utf8');
  const subjectBytes = Buffer.byteLength(subject, 'utf8');
  const ackInboxBytes = Buffer.byteLength(ackInbox, 'utf8');
  const correlationIdBytes = Buffer.byteLength(correlationId, 'utf8');
  const headerNames = input.headers ? Object.keys(input.headers) : [];

  let size = 0;
  if (offsetHi !== 0 || offsetLo !== 0) size += 1 + varint64Size(offsetHi, offsetLo);
  if (input.key) size += lengthDelimitedFieldSize(input.key.length);
  if (input.value) size += lengthDelimitedFieldSize(input.value.length);
  if (streamBytes > 0) size += lengthDelimitedFieldSize(streamBytes);
  if (subjectBytes > 0) size += lengthDelimitedFieldSize(subjectBytes);
  for (const name of headerNames) {
    size += lengthDelimitedFieldSize(headerEntrySize(Buffer.byteLength(name, 'utf8'), headerValue(input, name).length));
  }
  if (ackInboxBytes > 0) size += lengthDelimitedFieldSize(ackInboxBytes);
  if (correlationIdBytes > 0) size += lengthDelimitedFieldSize(correlationIdBytes);
  if (ackPolicy !== 0) size += 1 + int32Size(ackPolicy);

  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + size);
  let pos = writeEnvelopeHeader(out, 0, MsgType.Publish);
  if (offsetHi !== 0 || offsetLo !== 0) {
    out[pos++] = fieldKey(F_OFFSET, WIRE_VARINT);
    pos = writeVarint64(out, pos, offsetHi, offsetLo);
  }
  if (input.key) pos = writeBytesField(out, pos, F_KEY, input.key, 0, input.key.length);
  if (input.value) pos = writeBytesField(out, pos, F_VALUE, input.value, 0, input.value.length);
  if (streamBytes > 0) pos = writeStringField(out, pos, F_STREAM, stream, streamBytes);
  if (subjectBytes > 0) pos = writeStringField(out, pos, F_SUBJECT, subject, subjectBytes);
  for (const name of headerNames) {
    const nameBytes = Buffer.byteLength(name, 'utf8');
    const value = headerValue(input, name);
    out[pos++] = fieldKey(F_HEADERS, WIRE_LENGTH_DELIMITED);
    pos = writeVarint32(out, pos, headerEntrySize(nameBytes, value.length));
    pos = writeStringField(out, pos, F_MAP_KEY, name, nameBytes);
    pos = writeBytesField(out, pos, F_MAP_VALUE, value, 0, value.length);
  }
  if (ackInboxBytes > 0) pos = writeStringField(out, pos, F_ACK_INBOX, ackInbox, ackInboxBytes);
  if (correlationIdBytes > 0) pos = writeStringField(out, pos, F_CORRELATION_ID, correlationId, correlationIdBytes);
  if (ackPolicy !== 0) {
    out[pos++] = fieldKey(F_ACK_POLICY, WIRE_VARINT);
    pos = writeInt32(out, pos, ackPolicy);
  }
  assert(pos === out.length, 'publish envelope size computed wrongly');
  return out;
}

function headerValue(input: PublishEnvelopeInput, name: string): Uint8Array {
  const value = input.headers?.[name];
  if (!(value instanceof Uint8Array)) throw new ProtobufEncodeError(`header ${name}: expected a Uint8Array`);
  return value;
}

/** Size of a map entry body: key field (1) + value field (2), both always written (as Go does). */
export const headerEntrySize = (nameBytes: number, valueBytes: number): number =>
  lengthDelimitedFieldSize(nameBytes) + lengthDelimitedFieldSize(valueBytes);

