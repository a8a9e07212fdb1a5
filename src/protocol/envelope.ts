import { crc32c } from '@node-rs/crc32';
import { CodecError } from './codec-errors';

/**
 * The envelope that wraps every Liftbridge payload carried over NATS (docs/protocol.md "Envelope"):
 *
 *   0-3 magic B9 0E 43 B4 | 4 version 0 | 5 HeaderLen (8, or 12 with CRC) | 6 flags (bit 0 = CRC-32C)
 *   | 7 MsgType | [8-11 CRC-32C of the payload, big-endian] | payload
 *
 * Parsing distinguishes "not an envelope at all" (no magic: a plain NATS publisher, whose payload
 * ingest stores verbatim, docs/protocol.md "Publishing over NATS" and bad input B1) from "claims to be an envelope but is
 * malformed" (right magic; rejected and counted, bad inputs B2-B5 in docs/reliability.md "Bad inputs"). See docs/compatibility.md.
 */

/** MsgType byte (docs/protocol.md "MsgType values"). */
export enum MsgType {
  Publish = 0,
  Ack = 1,
  ReplicationRequest = 2,
  ReplicationResponse = 3,
  RaftJoinRequest = 4,
  RaftJoinResponse = 5,
  LeaderEpochOffsetRequest = 6,
  LeaderEpochOffsetResponse = 7,
  PropagatedRequest = 8,
  PropagatedResponse = 9,
  ServerInfoRequest = 10,
  ServerInfoResponse = 11,
  PartitionStatusRequest = 12,
  PartitionStatusResponse = 13,
  PartitionNotification = 14,
}

export const ENVELOPE_MAGIC = 0xb90e43b4;
export const ENVELOPE_VERSION = 0;
export const ENVELOPE_HEADER_BYTES = 8;
export const ENVELOPE_HEADER_WITH_CRC_BYTES = 12;
const MAGIC_BYTES = 4;
const FLAG_CRC = 0x01;

/** Why a buffer that starts with the magic number was refused. */
export type EnvelopeMalformedReason =
  | 'truncated-header'
  | 'unsupported-version'
  | 'invalid-header-length'
  | 'crc-flag-mismatch'
  | 'crc-mismatch'
  | 'unexpected-type';

export type EnvelopeParseResult =
  | {
    readonly kind: 'ok';
    readonly msgType: MsgType;
    readonly payloadStart: number;
    readonly payloadEnd: number;
    readonly crcChecked: boolean;
  }
  | { readonly kind: 'not-an-envelope' }
  | { readonly kind: 'malformed'; readonly reason: EnvelopeMalformedReason; readonly detail: string };

/** Thrown by `unwrapEnvelope`; `kind` and `reason` say what was wrong. */
export class EnvelopeError extends CodecError {
  constructor(
    readonly kind: 'not-an-envelope' | 'malformed',
    readonly reason: EnvelopeMalformedReason | 'missing-magic',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes an envelope header at `target[offset]`: 8 bytes, or 12 when `payloadCrc32c` is given.
 * Returns the number of bytes written (the payload starts right after).
 */
export function writeEnvelopeHeader(target: Buffer, offset: number, type: MsgType, payloadCrc32c?: number): number {
  const withCrc = payloadCrc32c !== undefined;
  const headerBytes = withCrc ? ENVELOPE_HEADER_WITH_CRC_BYTES : ENVELOPE_HEADER_BYTES;
  if (offset < 0 || offset + headerBytes > target.length) throw new RangeError('envelope header does not fit');
  target.writeUInt32BE(ENVELOPE_MAGIC, offset);
  target[offset + 4] = ENVELOPE_VERSION;
  target[offset + 5] = headerBytes;
  target[offset + 6] = withCrc ? FLAG_CRC : 0;
  target[offset + 7] = type;
  if (withCrc) target.writeUInt32BE(payloadCrc32c >>> 0, offset + ENVELOPE_HEADER_BYTES);
  return headerBytes;
}

/** A fresh envelope header (see `writeEnvelopeHeader`). */
export function encodeEnvelopeHeader(type: MsgType, payloadCrc32c?: number): Buffer {
  const header = Buffer.allocUnsafe(payloadCrc32c === undefined ? ENVELOPE_HEADER_BYTES : ENVELOPE_HEADER_WITH_CRC_BYTES);
  writeEnvelopeHeader(header, 0, type, payloadCrc32c);
  return header;
}

/**
 * Header + payload in one buffer. The Go server and client never set the CRC flag; `crc: true`
 * exists for our own internal traffic and for tests.
 */
export function wrapEnvelope(type: MsgType, payload: Uint8Array, options: { readonly crc?: boolean } = {}): Buffer {
  const crc = options.crc === true ? crc32c(asBuffer(payload)) : undefined;
  const headerBytes = crc === undefined ? ENVELOPE_HEADER_BYTES : ENVELOPE_HEADER_WITH_CRC_BYTES;
  const out = Buffer.allocUnsafe(headerBytes + payload.length);
  writeEnvelopeHeader(out, 0, type, crc);
  out.set(payload, headerBytes);
  return out;
}

/** True when `buf` starts with the envelope magic number (and so must parse, or be rejected). */
export function hasEnvelopeMagic(buf: Uint8Array): boolean {
  return buf.length >= MAGIC_BYTES && buf[0] === 0xb9 && buf[1] === 0x0e && buf[2] === 0x43 && buf[3] === 0xb4;
}

/**
 * Parses the header of `buf` and checks it against `expectedType` (docs/protocol.md "Envelope" decoding rules, plus
 * the bounds check the Go decoder lacks, docs/compatibility.md "Go quirks" #8). Never throws.
 *
 * - no magic (including buffers shorter than 4 bytes) → `not-an-envelope`;
 * - magic but fewer than 8 bytes, version ≠ 0, HeaderLen not 8/12 or beyond the buffer, CRC flag
 *   and HeaderLen disagreeing, CRC mismatch, MsgType ≠ expected → `malformed` with a reason.
 * Flag bits other than bit 0 are ignored, as the Go server ignores them.
 */
export function parseEnvelope(buf: Uint8Array, expectedType: MsgType): EnvelopeParseResult {
  if (!hasEnvelopeMagic(buf)) return NOT_AN_ENVELOPE;
  if (buf.length < ENVELOPE_HEADER_BYTES) {
    return malformed('truncated-header', `envelope of ${buf.length} bytes is shorter than its 8-byte header`);
  }
  const version = buf[4]!;
  if (version !== ENVELOPE_VERSION) return malformed('unsupported-version', `unsupported envelope version ${version}`);
  const headerLen = buf[5]!;
  const withCrc = (buf[6]! & FLAG_CRC) !== 0;
  if (headerLen !== ENVELOPE_HEADER_BYTES && headerLen !== ENVELOPE_HEADER_WITH_CRC_BYTES) {
    return malformed('invalid-header-length', `invalid envelope header length ${headerLen}`);
  }
  if (headerLen > buf.length) {
    return malformed('invalid-header-length', `envelope header length ${headerLen} exceeds the ${buf.length}-byte message`);
  }
  if (withCrc !== (headerLen === ENVELOPE_HEADER_WITH_CRC_BYTES)) {
    return malformed('crc-flag-mismatch', `CRC flag ${withCrc ? 'set' : 'clear'} with header length ${headerLen}`);
  }
  const msgType = buf[7]!;
  if (msgType !== expectedType) {
    return malformed('unexpected-type', `envelope carries MsgType ${msgType}, expected ${expectedType}`);
  }
  if (withCrc) {
    const view = asBuffer(buf);
    const expected = view.readUInt32BE(ENVELOPE_HEADER_BYTES);
    const actual = crc32c(view.subarray(headerLen)) >>> 0;
    if (actual !== expected) {
      return malformed('crc-mismatch', `envelope CRC-32C ${hex(actual)} does not match header ${hex(expected)}`);
    }
  }
  return { kind: 'ok', msgType: msgType as MsgType, payloadStart: headerLen, payloadEnd: buf.length, crcChecked: withCrc };
}

/** Like `parseEnvelope`, but returns the payload (a view, no copy) or throws EnvelopeError. */
export function unwrapEnvelope(buf: Uint8Array, expectedType: MsgType): Buffer {
  const parsed = parseEnvelope(buf, expectedType);
  switch (parsed.kind) {
    case 'ok':
      return asBuffer(buf).subarray(parsed.payloadStart, parsed.payloadEnd);
    case 'not-an-envelope':
      throw new EnvelopeError('not-an-envelope', 'missing-magic', 'not a Liftbridge envelope (magic number missing)');
    case 'malformed':
      throw new EnvelopeError('malformed', parsed.reason, parsed.detail);
  }
}

// ---------------------------------------------------------------------------------------------
// ReplicationResponse (docs/protocol.md "ReplicationResponse"): envelope (MsgType 3, no CRC) | leader epoch uint64 BE |
// high watermark int64 BE | message-set entries exactly as stored.

export const REPLICATION_RESPONSE_HEADER_BYTES = ENVELOPE_HEADER_BYTES + 16;

/**
 * Writes the 8-byte envelope header of a ReplicationResponse and returns 8, like Go's
 * `WriteReplicationResponseHeader`; the epoch and HW follow at offset + 8 (written at flush time).
 */
export function writeReplicationResponseHeader(target: Buffer, offset = 0): number {
  return writeEnvelopeHeader(target, offset, MsgType.ReplicationResponse);
}

/** The whole 24-byte ReplicationResponse prefix. */
export function encodeReplicationResponseHeader(leaderEpoch: bigint, highWatermark: bigint): Buffer {
  const out = Buffer.allocUnsafe(REPLICATION_RESPONSE_HEADER_BYTES);
  writeReplicationResponseHeader(out, 0);
  out.writeBigUInt64BE(leaderEpoch, ENVELOPE_HEADER_BYTES);
  out.writeBigInt64BE(highWatermark, ENVELOPE_HEADER_BYTES + 8);
  return out;
}

export interface ReplicationResponseHeader {
  readonly leaderEpoch: bigint;
  readonly highWatermark: bigint;
  /** The message-set entries: `buf.subarray(dataStart)`. */
  readonly dataStart: number;
}

/** Parses a ReplicationResponse prefix; throws EnvelopeError (malformed, `not enough data`). */
export function parseReplicationResponse(buf: Uint8Array): ReplicationResponseHeader {
  const payload = unwrapEnvelope(buf, MsgType.ReplicationResponse);
  if (payload.length < 16) {
    throw new EnvelopeError('malformed', 'truncated-header', `not enough data: replication response payload of ${payload.length} bytes`);
  }
  const dataStart = buf.length - payload.length + 16;
  return {
    leaderEpoch: payload.readBigUInt64BE(0),
    highWatermark: payload.readBigInt64BE(8),
    dataStart,
  };
}

// ---------------------------------------------------------------------------------------------

const NOT_AN_ENVELOPE: EnvelopeParseResult = Object.freeze({ kind: 'not-an-envelope' });

function malformed(reason: EnvelopeMalformedReason, detail: string): EnvelopeParseResult {
  return { kind: 'malformed', reason, detail };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
