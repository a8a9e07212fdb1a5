import { assert } from '../domain/shared/assert';
import type { AckPolicy, PublishRequest } from './api-types';
import { ProtobufEncodeError } from './codec-errors';
import type { ProtoInit } from './proto-schema';
import { headerEntrySize, readBytes, readHeaderEntry, readString } from './publish-message-codec';
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
 * Hand-written codec for `proto.PublishRequest` (docs/protocol.md "PublishRequest"), the request of Publish and of every
 * PublishAsync frame: a client encodes one per message, the server decodes one per message. The
 * decoder yields exactly what the reflection codec (api-proto.ts) yields for the same bytes,
 * without its validation pass and object conversions, and is stricter on one point: a known field
 * with the wrong wire type is rejected instead of being misread. The encoder accepts what the
 * reflection codec accepts, refuses what it refuses, and writes the same bytes in one allocation.
 */

/** `proto.PublishRequest` field numbers. */
const F_KEY = 1;
const F_VALUE = 2;
const F_STREAM = 3;
const F_PARTITION = 4;
const F_HEADERS = 5;
const F_ACK_INBOX = 6;
const F_CORRELATION_ID = 7;
const F_ACK_POLICY = 8;
const F_EXPECTED_OFFSET = 9;

/**
 * Decodes a `proto.PublishRequest`. Absent fields take their proto3 defaults (empty Buffer, '',
 * 0, 0n); key, value and header values are views into `bytes`; headers are a null-prototype
 * record (so a `__proto__` header is an ordinary entry), last duplicate wins; enums stay numbers
 * (proto3 enums are open). Unknown fields are skipped. Throws ProtobufDecodeError on truncated
 * varints, lengths past the end (checked before anything is sliced, so a huge prefix allocates
 * nothing), a wrong wire type on a known field, or an unterminated or over-nested group.
 */
export function decodePublishRequest(bytes: Uint8Array): PublishRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new WireReader(buf, 0, buf.length);
  let key: Buffer | null = null;
  let value: Buffer | null = null;
  let stream = '';
  let partition = 0;
  const headers = Object.create(null) as Record<string, Buffer>;
  let ackInbox = '';
  let correlationId = '';
  let ackPolicy = 0;
  let expectedOffset = 0n;
  while (!r.done) {
    const tag = r.readKey();
    const field = tag >>> 3;
    switch (field) {
      case F_KEY:
        key = readBytes(r, tag);
        break;
      case F_VALUE:
        value = readBytes(r, tag);
        break;
      case F_STREAM:
        stream = readString(r, tag);
        break;
      case F_PARTITION:
        partition = r.readInt32Field(tag);
        break;
      case F_HEADERS:
        r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
        readHeaderEntry(r, headers);
        break;
      case F_ACK_INBOX:
        ackInbox = readString(r, tag);
        break;
      case F_CORRELATION_ID:
        correlationId = readString(r, tag);
        break;
      case F_ACK_POLICY:
        ackPolicy = r.readInt32Field(tag);
        break;
      case F_EXPECTED_OFFSET:
        expectedOffset = r.readInt64Field(tag);
        break;
      default:
        r.skip(tag & 7, field);
    }
  }
  return {
    key: key ?? buf.subarray(0, 0),
    value: value ?? buf.subarray(0, 0),
    stream,
    partition,
    headers,
    ackInbox,
    correlationId,
    ackPolicy: ackPolicy as AckPolicy,
    expectedOffset,
  };
}

/**
 * Encodes a `proto.PublishRequest`. Absent (undefined or null) fields and proto3 defaults are
 * omitted; every header is written with both its name and its value, as protobufjs and Go do.
 * Throws ProtobufEncodeError on a value of the wrong JS type or out of range.
 */
export function encodePublishRequest(request: ProtoInit<PublishRequest>): Buffer {
  if (typeof request !== 'object' || request === null || Array.isArray(request) || request instanceof Uint8Array) {
    throw new ProtobufEncodeError('PublishRequest: expected a PublishRequest object');
  }
  const key = bytesOf(request.key, 'key');
  const value = bytesOf(request.value, 'value');
  const stream = stringOf(request.stream, 'stream');
  const partition = int32Of(request.partition, 'partition');
  const ackInbox = stringOf(request.ackInbox, 'ackInbox');
  const correlationId = stringOf(request.correlationId, 'correlationId');
  const ackPolicy = int32Of(request.ackPolicy, 'ackPolicy');
  const expectedOffset = request.expectedOffset ?? 0;
  try {
    assertInt64(expectedOffset, 'expectedOffset');
  } catch {
    throw new ProtobufEncodeError(`PublishRequest.expectedOffset: expected a bigint or a safe integer in the int64 range, got ${show(expectedOffset)}`);
  }
  const offsetHi = hiWord(expectedOffset);
  const offsetLo = loWord(expectedOffset);
  const headers = headersOf(request.headers);
  const streamBytes = Buffer.byteLength(stream, 'utf8');
  const ackInboxBytes = Buffer.byteLength(ackInbox, 'utf8');
  const correlationIdBytes = Buffer.byteLength(correlationId, 'utf8');

  let size = 0;
  if (key.length > 0) size += lengthDelimitedFieldSize(key.length);
  if (value.length > 0) size += lengthDelimitedFieldSize(value.length);
  if (streamBytes > 0) size += lengthDelimitedFieldSize(streamBytes);
  if (partition !== 0) size += 1 + int32Size(partition);
  for (let i = 0; i < headers.length; i += 3) size += lengthDelimitedFieldSize(headerEntrySize(headers[i + 1] as number, (headers[i + 2] as Uint8Array).length));
  if (ackInboxBytes > 0) size += lengthDelimitedFieldSize(ackInboxBytes);
  if (correlationIdBytes > 0) size += lengthDelimitedFieldSize(correlationIdBytes);
  if (ackPolicy !== 0) size += 1 + int32Size(ackPolicy);
  if (offsetHi !== 0 || offsetLo !== 0) size += 1 + varint64Size(offsetHi, offsetLo);

  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (key.length > 0) pos = writeBytesField(out, pos, F_KEY, key, 0, key.length);
  if (value.length > 0) pos = writeBytesField(out, pos, F_VALUE, value, 0, value.length);
  if (streamBytes > 0) pos = writeStringField(out, pos, F_STREAM, stream, streamBytes);
  if (partition !== 0) {
    out[pos++] = fieldKey(F_PARTITION, WIRE_VARINT);
    pos = writeInt32(out, pos, partition);
  }
  for (let i = 0; i < headers.length; i += 3) {
    const name = headers[i] as string;
    const nameBytes = headers[i + 1] as number;
    const headerValue = headers[i + 2] as Uint8Array;
    out[pos++] = fieldKey(F_HEADERS, WIRE_LENGTH_DELIMITED);
    pos = writeVarint32(out, pos, headerEntrySize(nameBytes, headerValue.length));
    pos = writeStringField(out, pos, F_MAP_KEY, name, nameBytes);
    pos = writeBytesField(out, pos, F_MAP_VALUE, headerValue, 0, headerValue.length);
  }
  if (ackInboxBytes > 0) pos = writeStringField(out, pos, F_ACK_INBOX, ackInbox, ackInboxBytes);
  if (correlationIdBytes > 0) pos = writeStringField(out, pos, F_CORRELATION_ID, correlationId, correlationIdBytes);
  if (ackPolicy !== 0) {
    out[pos++] = fieldKey(F_ACK_POLICY, WIRE_VARINT);
    pos = writeInt32(out, pos, ackPolicy);
  }
  if (offsetHi !== 0 || offsetLo !== 0) {
    out[pos++] = fieldKey(F_EXPECTED_OFFSET, WIRE_VARINT);
    pos = writeVarint64(out, pos, offsetHi, offsetLo);
  }
  assert(pos === out.length, 'publish request size computed wrongly');
  return out;
}

/** `map<string, bytes>` entry field numbers. */
const F_MAP_KEY = 1;
const F_MAP_VALUE = 2;
const EMPTY = new Uint8Array(0);

/** A value for an error message; String() itself throws on objects without a usable toString. */
function show(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function bytesOf(value: unknown, name: string): Uint8Array {
  if (value === undefined || value === null) return EMPTY;
  if (!(value instanceof Uint8Array)) throw new ProtobufEncodeError(`PublishRequest.${name}: expected a Uint8Array`);
  return value;
}

function stringOf(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ProtobufEncodeError(`PublishRequest.${name}: expected a string`);
  return value;
}

function int32Of(value: unknown, name: string): number {
  if (value === undefined || value === null) return 0;
  if (!Number.isInteger(value) || (value as number) < -0x80000000 || (value as number) > 0x7fffffff) {
    throw new ProtobufEncodeError(`PublishRequest.${name}: expected an int32, got ${show(value)}`);
  }
  return value as number;
}

/** Headers flattened as (name, name bytes, value) triples: validated and sized in one pass, no objects. */
function headersOf(headers: unknown): (string | number | Uint8Array)[] {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== 'object' || Array.isArray(headers)) throw new ProtobufEncodeError('PublishRequest.headers: expected a record');
  const out: (string | number | Uint8Array)[] = [];
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name];
    if (!(value instanceof Uint8Array)) throw new ProtobufEncodeError(`PublishRequest.headers[${name}]: expected a Uint8Array`);
    out.push(name, Buffer.byteLength(name, 'utf8'), value);
  }
  return out;
}
