import type { RecordBatch } from '../../application/ports/partition-log.port';
import type { EpochEnd, EpochEndRequest, ReplicationFetch, ReplicationReply } from '../../application/ports/replication-transport.port';
import type { PartitionRef } from '../../domain/shared/ids';
import { CodecError, MessageEntryCorruptError, ProtobufEncodeError } from '../../protocol/codec-errors';
import { encodeReplicationResponseHeader, MsgType, parseReplicationResponse, unwrapEnvelope, wrapEnvelope } from '../../protocol/envelope';
import { decodeInternalMessage, encodeInternalMessage } from './internal-proto';
import { scanMessageSet } from './message-set-scan';

/**
 * The partition data plane on the wire (docs/protocol.md "MsgType values", "ReplicationResponse", "Internal messages"), as Liftbridge's Go servers speak it:
 * - ReplicationRequest: envelope MsgType 2 + `protocol.ReplicationRequest`;
 * - ReplicationResponse: envelope MsgType 3 + leader epoch uint64 BE + HW int64 BE + message-set
 *   entries exactly as stored (no protobuf);
 * - LeaderEpochOffsetRequest/Response: MsgType 6/7 + their protobufs;
 * - PartitionNotification: MsgType 14 + `protocol.PartitionNotification`.
 *
 * int64/uint64 fields arrive as bigint and leave as safe-integer numbers (docs/style.md "Naming"); a value that
 * is not a safe integer, or is negative where the protocol forbids it, is refused. Decoders throw
 * only `CodecError` subclasses; encoders refuse invalid values with `ProtobufEncodeError` (a bug in
 * the caller, never something a peer can cause).
 */

/** Bytes that are a well-formed envelope and protobuf but carry values the protocol forbids. */
export class ReplicationDecodeError extends CodecError {}

// ---------------------------------------------------------------------------------------------
// ReplicationRequest (MsgType 2)

export function encodeReplicationRequest(request: ReplicationFetch): Buffer {
  requireEncodable(request.replicaId.length > 0, 'replication request has an empty replica id');
  requireEncodable(isSafeAtLeast(request.offset, -1), `replication request offset ${request.offset} is not an offset`);
  requireEncodable(isSafeAtLeast(request.leaderEpoch, 0), `replication request leader epoch ${request.leaderEpoch} is not an epoch`);
  return wrapEnvelope(
    MsgType.ReplicationRequest,
    encodeInternalMessage('ReplicationRequest', { replicaID: request.replicaId, offset: request.offset, leaderEpoch: request.leaderEpoch }),
  );
}

export function decodeReplicationRequest(bytes: Uint8Array): ReplicationFetch {
  const m = decodeInternalMessage('ReplicationRequest', unwrapEnvelope(bytes, MsgType.ReplicationRequest));
  const replicaId = m['replicaID'];
  if (typeof replicaId !== 'string' || replicaId.length === 0) throw new ReplicationDecodeError('replication request has no replica id');
  return {
    replicaId,
    offset: safeInteger(m['offset'], -1, 'replication request offset'),
    leaderEpoch: safeInteger(m['leaderEpoch'], 0, 'replication request leader epoch'),
  };
}

// ---------------------------------------------------------------------------------------------
// ReplicationResponse (MsgType 3, custom binary, docs/protocol.md "ReplicationResponse")

/**
 * The 24-byte header followed by `records.bytes`, unchanged (they are the stored entries, CRCs
 * included). One copy into the outgoing buffer; the entries are not re-validated here.
 */
export function encodeReplicationResponse(reply: ReplicationReply): Buffer {
  requireEncodable(isSafeAtLeast(reply.leaderEpoch, 0), `replication response leader epoch ${reply.leaderEpoch} is not an epoch`);
  requireEncodable(isSafeAtLeast(reply.highWatermark, -1), `replication response high watermark ${reply.highWatermark} is not an offset`);
  const header = encodeReplicationResponseHeader(BigInt(reply.leaderEpoch), BigInt(reply.highWatermark));
  if (reply.records === null || reply.records.bytes.length === 0) return header;
  return Buffer.concat([header, reply.records.bytes], header.length + reply.records.bytes.length);
}

/**
 * Parses a ReplicationResponse. `records` is null when no entries follow the header; otherwise its
 * `bytes` is a view of `bytes` (no copy), so the caller must not reuse that buffer while it keeps
 * the batch. Every entry is validated (size bounds, CRC-32C, message layout, consecutive offsets);
 * a truncated or corrupt set is refused whole with `MessageEntryCorruptError`, since a follower must
 * append the leader's bytes verbatim or not at all.
 */
export function decodeReplicationResponse(bytes: Uint8Array): ReplicationReply {
  const header = parseReplicationResponse(bytes);
  const leaderEpoch = safeInteger(header.leaderEpoch, 0, 'replication response leader epoch');
  const highWatermark = safeInteger(header.highWatermark, -1, 'replication response high watermark');
  if (header.dataStart === bytes.length) return { leaderEpoch, highWatermark, records: null };
  const data = asBuffer(bytes).subarray(header.dataStart);
  const scan = scanMessageSet(data, -1);
  if (scan.defect !== null) {
    throw new MessageEntryCorruptError(
      `replication response entries are corrupt (${scan.defect}) after ${scan.count} valid entries (${scan.validBytes} of ${data.length} bytes)`,
    );
  }
  const records: RecordBatch = { bytes: data, firstOffset: scan.firstOffset, lastOffset: scan.lastOffset, count: scan.count };
  return { leaderEpoch, highWatermark, records };
}

// ---------------------------------------------------------------------------------------------
// LeaderEpochOffsetRequest/Response (MsgType 6/7, KIP-101)

/** Field 2 (`currentLeaderEpoch`, ours: KIP-320 fencing) is 0 from Go followers. */
export function encodeLeaderEpochOffsetRequest(request: EpochEndRequest): Buffer {
  requireEncodable(isSafeAtLeast(request.leaderEpoch, 0), `leader epoch ${request.leaderEpoch} is not an epoch`);
  requireEncodable(isSafeAtLeast(request.currentLeaderEpoch, 0), `leader epoch ${request.currentLeaderEpoch} is not an epoch`);
  return wrapEnvelope(
    MsgType.LeaderEpochOffsetRequest,
    encodeInternalMessage('LeaderEpochOffsetRequest', { leaderEpoch: request.leaderEpoch, currentLeaderEpoch: request.currentLeaderEpoch }),
  );
}

export function decodeLeaderEpochOffsetRequest(bytes: Uint8Array): EpochEndRequest {
  const m = decodeInternalMessage('LeaderEpochOffsetRequest', unwrapEnvelope(bytes, MsgType.LeaderEpochOffsetRequest));
  return {
    leaderEpoch: safeInteger(m['leaderEpoch'], 0, 'leader epoch offset request epoch'),
    currentLeaderEpoch: safeInteger(m['currentLeaderEpoch'] ?? 0n, 0, 'leader epoch offset request current epoch'),
  };
}

/**
 * `endOffset` is exclusive; -1 (Kafka's UNDEFINED_EPOCH_OFFSET, which Go servers may send) is
 * allowed. `leaderEpoch` (field 2, ours: KIP-279) is the epoch it ends; -1 = none.
 */
export function encodeLeaderEpochOffsetResponse(answer: EpochEnd): Buffer {
  requireEncodable(isSafeAtLeast(answer.endOffset, -1), `leader epoch end offset ${answer.endOffset} is not an offset`);
  requireEncodable(isSafeAtLeast(answer.leaderEpoch, -1), `leader epoch ${answer.leaderEpoch} is not an epoch`);
  return wrapEnvelope(
    MsgType.LeaderEpochOffsetResponse,
    encodeInternalMessage('LeaderEpochOffsetResponse', { endOffset: answer.endOffset, leaderEpoch: answer.leaderEpoch }),
  );
}

export function decodeLeaderEpochOffsetResponse(bytes: Uint8Array): EpochEnd {
  const m = decodeInternalMessage('LeaderEpochOffsetResponse', unwrapEnvelope(bytes, MsgType.LeaderEpochOffsetResponse));
  return {
    endOffset: safeInteger(m['endOffset'], -1, 'leader epoch end offset'),
    leaderEpoch: safeInteger(m['leaderEpoch'] ?? 0n, -1, 'leader epoch of the end offset'),
  };
}

// ---------------------------------------------------------------------------------------------
// PartitionNotification (MsgType 14)

export function encodePartitionNotification(ref: PartitionRef): Buffer {
  requireEncodable(ref.stream.length > 0, 'partition notification has an empty stream name');
  requireEncodable(isInt32AtLeastZero(ref.partition), `partition notification partition ${ref.partition} is not a partition index`);
  return wrapEnvelope(MsgType.PartitionNotification, encodeInternalMessage('PartitionNotification', { stream: ref.stream, partition: ref.partition }));
}

export function decodePartitionNotification(bytes: Uint8Array): PartitionRef {
  const m = decodeInternalMessage('PartitionNotification', unwrapEnvelope(bytes, MsgType.PartitionNotification));
  const stream = m['stream'];
  const partition = m['partition'];
  if (typeof stream !== 'string' || stream.length === 0) throw new ReplicationDecodeError('partition notification has no stream');
  if (!isInt32AtLeastZero(partition)) throw new ReplicationDecodeError(`partition notification partition ${String(partition)} is not a partition index`);
  return { stream, partition };
}

// ---------------------------------------------------------------------------------------------

const isSafeAtLeast = (value: number, min: number): boolean => Number.isSafeInteger(value) && value >= min;
const isInt32AtLeastZero = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff;

function requireEncodable(condition: boolean, message: string): void {
  if (!condition) throw new ProtobufEncodeError(message);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A 64-bit protobuf field (bigint) as a safe integer ≥ `min`. */
function safeInteger(value: unknown, min: number, what: string): number {
  if (typeof value !== 'bigint') throw new ReplicationDecodeError(`${what} is missing or not a 64-bit integer`);
  if (value < BigInt(min) || value > MAX_SAFE) throw new ReplicationDecodeError(`${what} ${value} is out of range`);
  return Number(value);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
