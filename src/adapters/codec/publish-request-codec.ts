import type { AckPolicy, PublishRequest } from './api-types';
import { readBytes, readHeaderEntry, readString } from './publish-message-codec';
import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireReader } from './protobuf-wire';

/**
 * Hand-written decoder for `proto.PublishRequest` (spec §1.4), the request of Publish and of every
 * PublishAsync frame. It yields exactly what the reflection codec (api-proto.ts) yields for the
 * same bytes, without its validation pass and object conversions, and is stricter on one point:
 * a known field with the wrong wire type is rejected instead of being misread.
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

const TWO_POW_32 = 4294967296;

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
        r.expectWireType(tag, WIRE_VARINT);
        partition = r.readInt32();
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
        r.expectWireType(tag, WIRE_VARINT);
        ackPolicy = r.readInt32();
        break;
      case F_EXPECTED_OFFSET:
        r.expectWireType(tag, WIRE_VARINT);
        r.readVarint64();
        expectedOffset = int64ToBigInt(r.hi, r.lo);
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
 * A two's-complement int64 given as uint32 words. The usual values (-1, small offsets) go through
 * a number, which is exact whenever the result is a safe integer; only the rest pay for bigint
 * shifts.
 */
function int64ToBigInt(hi: number, lo: number): bigint {
  const n = (hi | 0) * TWO_POW_32 + lo;
  if (Number.isSafeInteger(n)) return BigInt(n);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}
