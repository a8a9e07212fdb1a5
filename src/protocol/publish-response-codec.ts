import { assert } from '../domain/shared/assert';
import { planAck, readAck, writeAck, type AckInput, type AckPlan } from './ack-codec';
import type { Ack, PublishAsyncError, PublishAsyncErrorCode, PublishResponse } from './api-types';
import { ProtobufEncodeError } from './codec-errors';
import { readString } from './publish-message-codec';
import {
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  WireReader,
  fieldKey,
  int32Size,
  lengthDelimitedFieldSize,
  writeInt32,
  writeStringField,
  writeVarint32,
} from './protobuf-wire';

/**
 * Hand-written codec for `proto.PublishResponse` (docs/protocol.md "PublishResponse"), the response of Publish and of every
 * PublishAsync frame: the server encodes one per message, a client decodes one per message. The
 * encoder makes one allocation (the nested Ack and PublishAsyncError are sized first and written
 * in place) and its bytes equal the reflection codec's (and Go's) for the same values; the decoder
 * gives what the reflection codec gives for the same bytes.
 */

/** `proto.PublishResponse` field numbers. */
const F_ACK = 1;
const F_ASYNC_ERROR = 2;
const F_CORRELATION_ID = 3;
/** `proto.PublishAsyncError` field numbers. */
const F_ERROR_CODE = 1;
const F_ERROR_MESSAGE = 2;

/** A `PublishAsyncError` to send; absent = proto3 default. */
export interface PublishAsyncErrorInput {
  /** A PublishAsyncError.Code value. */
  readonly code?: number;
  readonly message?: string;
}

/**
 * A response to send. Accepts `ProtoInit<PublishResponse>`, hence the `Ack` objects of api-types
 * (bigint offsets and timestamps, numeric enums). A present sub-message is written even when all
 * its fields are defaults: error responses carry an empty non-nil ack for old clients (docs/protocol.md "PublishAsync").
 */
export interface PublishResponseInput {
  readonly ack?: AckInput | null;
  readonly asyncError?: PublishAsyncErrorInput | null;
  readonly correlationId?: string;
}

/** Encodes a `proto.PublishResponse`; throws ProtobufEncodeError on a value it cannot encode. */
export function encodePublishResponse(response: PublishResponseInput): Buffer {
  if (!isObject(response)) throw new ProtobufEncodeError('PublishResponse: expected an object');
  const { ack, asyncError } = response;
  const correlationId = response.correlationId ?? '';
  if (typeof correlationId !== 'string') throw new ProtobufEncodeError('PublishResponse.correlationId: expected a string');

  let ackPlan: AckPlan | null = null;
  if (ack !== undefined && ack !== null) {
    if (!isObject(ack)) throw new ProtobufEncodeError('PublishResponse.ack: expected an Ack object');
    ackPlan = planAck(ack);
  }
  let errorCode = 0;
  let errorMessage = '';
  let errorMessageBytes = 0;
  let errorSize = 0;
  if (asyncError !== undefined && asyncError !== null) {
    if (!isObject(asyncError)) throw new ProtobufEncodeError('PublishResponse.asyncError: expected an object');
    errorCode = asyncError.code ?? 0;
    errorMessage = asyncError.message ?? '';
    if (!Number.isInteger(errorCode) || errorCode < -0x80000000 || errorCode > 0x7fffffff) {
      throw new ProtobufEncodeError(`PublishResponse.asyncError.code: expected an int32, got ${String(errorCode)}`);
    }
    if (typeof errorMessage !== 'string') throw new ProtobufEncodeError('PublishResponse.asyncError.message: expected a string');
    errorMessageBytes = Buffer.byteLength(errorMessage, 'utf8');
    if (errorCode !== 0) errorSize += 1 + int32Size(errorCode);
    if (errorMessageBytes > 0) errorSize += lengthDelimitedFieldSize(errorMessageBytes);
  }
  const correlationIdBytes = correlationId.length === 0 ? 0 : Buffer.byteLength(correlationId, 'utf8');

  let size = 0;
  if (ackPlan !== null) size += lengthDelimitedFieldSize(ackPlan.size);
  if (asyncError !== undefined && asyncError !== null) size += lengthDelimitedFieldSize(errorSize);
  if (correlationIdBytes > 0) size += lengthDelimitedFieldSize(correlationIdBytes);

  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (ackPlan !== null) {
    out[pos++] = fieldKey(F_ACK, WIRE_LENGTH_DELIMITED);
    pos = writeVarint32(out, pos, ackPlan.size);
    const ackStart = pos;
    pos = writeAck(out, pos, ack!, ackPlan);
    assert(pos - ackStart === ackPlan.size, 'nested ack size computed wrongly');
  }
  if (asyncError !== undefined && asyncError !== null) {
    out[pos++] = fieldKey(F_ASYNC_ERROR, WIRE_LENGTH_DELIMITED);
    pos = writeVarint32(out, pos, errorSize);
    if (errorCode !== 0) {
      out[pos++] = fieldKey(F_ERROR_CODE, WIRE_VARINT);
      pos = writeInt32(out, pos, errorCode);
    }
    if (errorMessageBytes > 0) pos = writeStringField(out, pos, F_ERROR_MESSAGE, errorMessage, errorMessageBytes);
  }
  if (correlationIdBytes > 0) pos = writeStringField(out, pos, F_CORRELATION_ID, correlationId, correlationIdBytes);
  assert(pos === out.length, 'publish response size computed wrongly');
  return out;
}

const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/**
 * Decodes a `proto.PublishResponse`: `ack` and `asyncError` are undefined when absent (as the
 * reflection codec gives them), a present one has every field (proto3 defaults filled in).
 * Throws ProtobufDecodeError on malformed bytes or a known field with the wrong wire type.
 */
export function decodePublishResponse(bytes: Uint8Array): PublishResponse {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new WireReader(buf, 0, buf.length);
  let ack: Ack | undefined;
  let asyncError: PublishAsyncError | undefined;
  let correlationId = '';
  while (!r.done) {
    const tag = r.readKey();
    const field = tag >>> 3;
    if (field === F_ACK || field === F_ASYNC_ERROR) {
      r.expectWireType(tag, WIRE_LENGTH_DELIMITED);
      const start = r.readLengthDelimited();
      const nested = new WireReader(buf, start, r.pos);
      if (field === F_ACK) ack = readAck(nested);
      else asyncError = readAsyncError(nested);
    } else if (field === F_CORRELATION_ID) {
      correlationId = readString(r, tag);
    } else {
      r.skip(tag & 7, field);
    }
  }
  return { ack, asyncError, correlationId };
}

function readAsyncError(r: WireReader): PublishAsyncError {
  let code = 0;
  let message = '';
  while (!r.done) {
    const tag = r.readKey();
    const field = tag >>> 3;
    if (field === F_ERROR_CODE) {
      code = r.readInt32Field(tag);
    } else if (field === F_ERROR_MESSAGE) {
      message = readString(r, tag);
    } else {
      r.skip(tag & 7, field);
    }
  }
  return { code: code as PublishAsyncErrorCode, message };
}
