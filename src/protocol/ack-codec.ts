import { assert } from '../domain/shared/assert';
import { ProtobufEncodeError } from './codec-errors';
import type { Ack, AckError, AckPolicy } from './api-proto';
import { ENVELOPE_HEADER_BYTES, MsgType, unwrapEnvelope, writeEnvelopeHeader } from './envelope';
import { readString } from './publish-message-codec';
import {
  WIRE_VARINT,
  WireReader,
  assertInt64,
  fieldKey,
  hiWord,
  int32Size,
  lengthDelimitedFieldSize,
  loWord,
  varint64Size,
  writeInt32,
  writeStringField,
  writeVarint64,
} from './protobuf-wire';

/**
 * Hand-written encoder for `proto.Ack` (docs/protocol.md "Ack"), sent by partition leaders to ack
 * inboxes inside a MsgType-1 envelope (docs/protocol.md "Publishing over NATS"). Proto3 defaults are omitted, as Go does, so the
 * bytes match the Go server's for the same values.
 */

/** Fields of an ack to send; absent = proto3 default. 64-bit values as bigint or safe integer. */
export interface AckInput {
  readonly stream?: string;
  /** The stream's base subject. */
  readonly partitionSubject?: string;
  /** The NATS subject the message arrived on. */
  readonly msgSubject?: string;
  readonly offset?: bigint | number;
  readonly ackInbox?: string;
  readonly correlationId?: string;
  readonly ackPolicy?: number;
  /** Unix nanoseconds. */
  readonly receptionTimestamp?: bigint | number;
  /** Unix nanoseconds. */
  readonly commitTimestamp?: bigint | number;
  /** An AckError value. */
  readonly ackError?: number;
}

const F_STREAM = 1;
const F_PARTITION_SUBJECT = 2;
const F_MSG_SUBJECT = 3;
const F_OFFSET = 4;
const F_ACK_INBOX = 5;
const F_CORRELATION_ID = 6;
const F_ACK_POLICY = 7;
const F_RECEPTION_TIMESTAMP = 8;
const F_COMMIT_TIMESTAMP = 9;
const F_ACK_ERROR = 10;

const STRING_FIELDS = [
  [F_STREAM, 'stream'],
  [F_PARTITION_SUBJECT, 'partitionSubject'],
  [F_MSG_SUBJECT, 'msgSubject'],
] as const;

/** Encodes the `proto.Ack` payload alone. */
export function encodeAck(ack: AckInput): Buffer {
  const plan = planAck(ack);
  const out = Buffer.allocUnsafe(plan.size);
  const end = writeAck(out, 0, ack, plan);
  assert(end === out.length, 'ack size computed wrongly');
  return out;
}

/** Encodes envelope (MsgType 1, no CRC, as Go sends it) + `proto.Ack` in one allocation. */
export function encodeAckEnvelope(ack: AckInput): Buffer {
  const plan = planAck(ack);
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + plan.size);
  const start = writeEnvelopeHeader(out, 0, MsgType.Ack);
  const end = writeAck(out, start, ack, plan);
  assert(end === out.length, 'ack envelope size computed wrongly');
  return out;
}

/**
 * Decodes a `proto.Ack` payload into the values the reflection codec (api-proto.ts) gives for the
 * same bytes: absent fields are proto3 defaults, 64-bit fields bigints, enums numbers, unknown
 * fields skipped. Throws ProtobufDecodeError on truncated or overlong fields and on a known field
 * with the wrong wire type. Clients decode one per acknowledged message, hence no reflection here.
 */
export function decodeAck(bytes: Uint8Array): Ack {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return readAck(new WireReader(buf, 0, buf.length));
}

/** Reads `r` to its end as a `proto.Ack` (a whole payload, or a nested one given its own reader). */
export function readAck(r: WireReader): Ack {
  let stream = '';
  let partitionSubject = '';
  let msgSubject = '';
  let offset = 0n;
  let ackInbox = '';
  let correlationId = '';
  let ackPolicy = 0;
  let receptionTimestamp = 0n;
  let commitTimestamp = 0n;
  let ackError = 0;
  while (!r.done) {
    const tag = r.readKey();
    const field = tag >>> 3;
    switch (field) {
      case F_STREAM:
        stream = readString(r, tag);
        break;
      case F_PARTITION_SUBJECT:
        partitionSubject = readString(r, tag);
        break;
      case F_MSG_SUBJECT:
        msgSubject = readString(r, tag);
        break;
      case F_OFFSET:
        offset = r.readInt64Field(tag);
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
      case F_RECEPTION_TIMESTAMP:
        receptionTimestamp = r.readInt64Field(tag);
        break;
      case F_COMMIT_TIMESTAMP:
        commitTimestamp = r.readInt64Field(tag);
        break;
      case F_ACK_ERROR:
        ackError = r.readInt32Field(tag);
        break;
      default:
        r.skip(tag & 7, field);
    }
  }
  return {
    stream,
    partitionSubject,
    msgSubject,
    offset,
    ackInbox,
    correlationId,
    ackPolicy: ackPolicy as AckPolicy,
    receptionTimestamp,
    commitTimestamp,
    ackError: ackError as AckError,
  };
}

/** Unwraps a MsgType-1 envelope and decodes its Ack; throws EnvelopeError or ProtobufDecodeError. */
export function decodeAckEnvelope(bytes: Uint8Array): Ack {
  return decodeAck(unwrapEnvelope(bytes, MsgType.Ack));
}

// ---------------------------------------------------------------------------------------------

/** Sizes computed before writing, so that an ack nested in another message is encoded in place. */
export interface AckPlan {
  /** Bytes of the `proto.Ack` payload alone (no key, no length prefix). */
  readonly size: number;
  readonly stringBytes: readonly number[]; // stream, partitionSubject, msgSubject, ackInbox, correlationId
}

/** Validates `ack` and sizes it; throws ProtobufEncodeError on a value it cannot encode. */
export function planAck(ack: AckInput): AckPlan {
  const strings = [ack.stream, ack.partitionSubject, ack.msgSubject, ack.ackInbox, ack.correlationId];
  const stringBytes = strings.map((s, i) => {
    if (s !== undefined && typeof s !== 'string') throw new ProtobufEncodeError(`ack string field ${i} is not a string`);
    return s === undefined ? 0 : Buffer.byteLength(s, 'utf8');
  });
  let size = 0;
  for (const bytes of stringBytes) if (bytes > 0) size += lengthDelimitedFieldSize(bytes);
  size += int64FieldSize(ack.offset, 'offset');
  size += int64FieldSize(ack.receptionTimestamp, 'receptionTimestamp');
  size += int64FieldSize(ack.commitTimestamp, 'commitTimestamp');
  size += int32FieldSize(ack.ackPolicy, 'ackPolicy');
  size += int32FieldSize(ack.ackError, 'ackError');
  return { size, stringBytes };
}

/** Writes the payload `planAck(ack)` sized at `out[pos]`; returns the position after it. */
export function writeAck(out: Buffer, pos: number, ack: AckInput, plan: AckPlan): number {
  const bytes = plan.stringBytes;
  for (let i = 0; i < STRING_FIELDS.length; i++) {
    const [field, name] = STRING_FIELDS[i]!;
    if (bytes[i]! > 0) pos = writeStringField(out, pos, field, ack[name]!, bytes[i]!);
  }
  pos = writeInt64Field(out, pos, F_OFFSET, ack.offset);
  if (bytes[3]! > 0) pos = writeStringField(out, pos, F_ACK_INBOX, ack.ackInbox!, bytes[3]!);
  if (bytes[4]! > 0) pos = writeStringField(out, pos, F_CORRELATION_ID, ack.correlationId!, bytes[4]!);
  pos = writeInt32Field(out, pos, F_ACK_POLICY, ack.ackPolicy);
  pos = writeInt64Field(out, pos, F_RECEPTION_TIMESTAMP, ack.receptionTimestamp);
  pos = writeInt64Field(out, pos, F_COMMIT_TIMESTAMP, ack.commitTimestamp);
  pos = writeInt32Field(out, pos, F_ACK_ERROR, ack.ackError);
  return pos;
}

function int64FieldSize(value: bigint | number | undefined, what: string): number {
  if (value === undefined) return 0;
  try {
    assertInt64(value, what);
  } catch (cause) {
    throw new ProtobufEncodeError(`ack ${what} is not an int64: ${String(value)}`, { cause });
  }
  const hi = hiWord(value);
  const lo = loWord(value);
  return hi === 0 && lo === 0 ? 0 : 1 + varint64Size(hi, lo);
}

function writeInt64Field(out: Buffer, pos: number, field: number, value: bigint | number | undefined): number {
  if (value === undefined) return pos;
  const hi = hiWord(value);
  const lo = loWord(value);
  if (hi === 0 && lo === 0) return pos;
  out[pos++] = fieldKey(field, WIRE_VARINT);
  return writeVarint64(out, pos, hi, lo);
}

function int32FieldSize(value: number | undefined, what: string): number {
  if (value === undefined || value === 0) return 0;
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new ProtobufEncodeError(`ack ${what} is not an int32: ${value}`);
  }
  return 1 + int32Size(value);
}

function writeInt32Field(out: Buffer, pos: number, field: number, value: number | undefined): number {
  if (value === undefined || value === 0) return pos;
  out[pos++] = fieldKey(field, WIRE_VARINT);
  return writeInt32(out, pos, value);
}
