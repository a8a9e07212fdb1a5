import * as fc from 'fast-check';
import { CodecError, MessageEntryCorruptError, ProtobufEncodeError } from '../../../../src/protocol/codec-errors';
import { EnvelopeError, MsgType, REPLICATION_RESPONSE_HEADER_BYTES, wrapEnvelope } from '../../../../src/protocol/envelope';
import { encodeInternalMessage } from '../../../../src/adapters/codec/internal-proto';
import { encodeEntries, encodeNewRecords } from '../../../../src/adapters/codec/message-set';
import {
  decodeLeaderEpochOffsetRequest,
  decodeLeaderEpochOffsetResponse,
  decodePartitionNotification,
  decodeReplicationRequest,
  decodeReplicationResponse,
  encodeLeaderEpochOffsetRequest,
  encodeLeaderEpochOffsetResponse,
  encodePartitionNotification,
  encodeReplicationRequest,
  encodeReplicationResponse,
  ReplicationDecodeError,
} from '../../../../src/adapters/codec/replication-codec';
import type { RecordBatch } from '../../../../src/application/ports/partition-log.port';

const SEED = 0x7e91;
const RUNS = 300;

/** Three leader records at offsets 10-12, as the leader's log stores them. */
function threeRecords(): RecordBatch {
  const bytes = encodeNewRecords(
    [0, 1, 2].map((i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i}`), headers: { h: Buffer.from([i]) }, subject: 'orders', reply: '' })),
    10,
    1_700_000_000_000_000_000n,
    4,
  );
  return { bytes, firstOffset: 10, lastOffset: 12, count: 3 };
}

const replicationRequestBytes = (fields: Record<string, unknown>): Buffer =>
  wrapEnvelope(MsgType.ReplicationRequest, encodeInternalMessage('ReplicationRequest', fields));

/** A 24-byte ReplicationResponse header with raw 64-bit values, followed by `data`. */
function rawResponse(epoch: bigint, hw: bigint, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(REPLICATION_RESPONSE_HEADER_BYTES + data.length);
  wrapEnvelope(MsgType.ReplicationResponse, Buffer.alloc(0)).copy(out);
  out.writeBigUInt64BE(epoch, 8);
  out.writeBigInt64BE(hw, 16);
  data.copy(out, 24);
  return out;
}

describe('replication codec', () => {
  describe('ReplicationRequest (MsgType 2)', () => {
    it('round-trips, including the -1 offset of an empty follower', () => {
      for (const request of [
        { replicaId: 'b', offset: -1, leaderEpoch: 0 },
        { replicaId: 'server-2', offset: 41, leaderEpoch: 7 },
        { replicaId: 'x', offset: Number.MAX_SAFE_INTEGER, leaderEpoch: Number.MAX_SAFE_INTEGER },
      ]) {
        expect(decodeReplicationRequest(encodeReplicationRequest(request))).toEqual(request);
      }
    });

    it('is the envelope with MsgType 2 around the protocol.ReplicationRequest protobuf (byte fixture)', () => {
      const bytes = encodeReplicationRequest({ replicaId: 'b', offset: 5, leaderEpoch: 2 });
      expect(bytes.toString('hex')).toBe('b90e43b400080002' + '0a0162' + '1005' + '1802');
    });

    it('refuses a wrong MsgType, a missing replica id, out-of-range offsets and epochs', () => {
      const valid = encodeReplicationRequest({ replicaId: 'b', offset: 1, leaderEpoch: 1 });
      const wrongType = Buffer.from(valid);
      wrongType[7] = MsgType.LeaderEpochOffsetRequest;
      expect(() => decodeReplicationRequest(wrongType)).toThrow(EnvelopeError);
      expect(() => decodeReplicationRequest(replicationRequestBytes({ offset: 3, leaderEpoch: 1 }))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationRequest(replicationRequestBytes({ replicaID: 'b', offset: -2 }))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationRequest(replicationRequestBytes({ replicaID: 'b', offset: 2n ** 53n }))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationRequest(replicationRequestBytes({ replicaID: 'b', leaderEpoch: 2n ** 63n }))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationRequest(Buffer.from('plain nats payload'))).toThrow(EnvelopeError);
      expect(() => decodeReplicationRequest(wrapEnvelope(MsgType.ReplicationRequest, Buffer.from([0x0a, 0x05, 0x62])))).toThrow(CodecError);
    });

    it('absent offset and epoch decode as proto3 defaults (0)', () => {
      expect(decodeReplicationRequest(replicationRequestBytes({ replicaID: 'b' }))).toEqual({ replicaId: 'b', offset: 0, leaderEpoch: 0 });
    });

    it('refuses to encode invalid values (a caller bug)', () => {
      expect(() => encodeReplicationRequest({ replicaId: '', offset: 0, leaderEpoch: 0 })).toThrow(ProtobufEncodeError);
      expect(() => encodeReplicationRequest({ replicaId: 'b', offset: -2, leaderEpoch: 0 })).toThrow(ProtobufEncodeError);
      expect(() => encodeReplicationRequest({ replicaId: 'b', offset: 0, leaderEpoch: 1.5 })).toThrow(ProtobufEncodeError);
    });
  });

  describe('ReplicationResponse (MsgType 3)', () => {
    it('an empty response is exactly the 24-byte header and decodes with null records', () => {
      const bytes = encodeReplicationResponse({ leaderEpoch: 3, highWatermark: -1, records: null });
      expect(bytes.toString('hex')).toBe('b90e43b400080003' + '0000000000000003' + 'ffffffffffffffff');
      expect(decodeReplicationResponse(bytes)).toEqual({ leaderEpoch: 3, highWatermark: -1, records: null });
    });

    it('round-trips a real message set verbatim, with first/last offsets and count recovered', () => {
      const records = threeRecords();
      const bytes = encodeReplicationResponse({ leaderEpoch: 4, highWatermark: 11, records });
      expect(bytes.length).toBe(REPLICATION_RESPONSE_HEADER_BYTES + records.bytes.length);
      expect(bytes.subarray(REPLICATION_RESPONSE_HEADER_BYTES).equals(records.bytes)).toBe(true);
      const reply = decodeReplicationResponse(bytes);
      expect(reply.leaderEpoch).toBe(4);
      expect(reply.highWatermark).toBe(11);
      expect(reply.records).toEqual({ bytes: records.bytes, firstOffset: 10, lastOffset: 12, count: 3 });
    });

    it('decodes from a Uint8Array that is a view into a larger buffer', () => {
      const encoded = encodeReplicationResponse({ leaderEpoch: 1, highWatermark: 5, records: threeRecords() });
      const big = new Uint8Array(encoded.length + 10);
      big.set(encoded, 7);
      const reply = decodeReplicationResponse(big.subarray(7, 7 + encoded.length));
      expect(reply.records?.count).toBe(3);
    });

    it('accepts a single entry written by encodeEntries with a null value', () => {
      const bytes = encodeEntries([{ offset: 0, timestampNs: 1n, leaderEpoch: 0, key: null, value: null, headers: null }]);
      const reply = decodeReplicationResponse(encodeReplicationResponse({ leaderEpoch: 0, highWatermark: 0, records: { bytes, firstOffset: 0, lastOffset: 0, count: 1 } }));
      expect(reply.records).toMatchObject({ firstOffset: 0, lastOffset: 0, count: 1 });
    });

    it('refuses a header shorter than 24 bytes and a wrong MsgType', () => {
      const header = encodeReplicationResponse({ leaderEpoch: 1, highWatermark: 1, records: null });
      for (let cut = 0; cut < REPLICATION_RESPONSE_HEADER_BYTES; cut++) {
        expect(() => decodeReplicationResponse(header.subarray(0, cut))).toThrow(EnvelopeError);
      }
      const wrongType = Buffer.from(header);
      wrongType[7] = MsgType.ReplicationRequest;
      expect(() => decodeReplicationResponse(wrongType)).toThrow(EnvelopeError);
    });

    it('refuses an epoch or high watermark that is not a safe integer, or an HW below -1', () => {
      expect(() => decodeReplicationResponse(rawResponse(2n ** 53n, 0n))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationResponse(rawResponse(1n, 2n ** 53n))).toThrow(ReplicationDecodeError);
      expect(() => decodeReplicationResponse(rawResponse(1n, -2n))).toThrow(ReplicationDecodeError);
      expect(decodeReplicationResponse(rawResponse(BigInt(Number.MAX_SAFE_INTEGER), -1n)).leaderEpoch).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('refuses a truncated set at every cut inside it', () => {
      const encoded = encodeReplicationResponse({ leaderEpoch: 4, highWatermark: 11, records: threeRecords() });
      const entryEnds = new Set<number>();
      let pos = REPLICATION_RESPONSE_HEADER_BYTES;
      while (pos < encoded.length) entryEnds.add((pos += 28 + encoded.readUInt32BE(pos + 24)));
      for (let cut = REPLICATION_RESPONSE_HEADER_BYTES + 1; cut < encoded.length; cut++) {
        if (entryEnds.has(cut)) expect(decodeReplicationResponse(encoded.subarray(0, cut)).records).not.toBeNull();
        else expect(() => decodeReplicationResponse(encoded.subarray(0, cut))).toThrow(MessageEntryCorruptError);
      }
    });

    it('refuses a flipped byte inside a message (CRC), a gap in offsets and an absurd size field', () => {
      const encoded = encodeReplicationResponse({ leaderEpoch: 4, highWatermark: 11, records: threeRecords() });
      const flipped = Buffer.from(encoded);
      flipped[flipped.length - 3]! ^= 0xff;
      expect(() => decodeReplicationResponse(flipped)).toThrow(MessageEntryCorruptError);

      const gap = Buffer.from(encoded);
      const second = REPLICATION_RESPONSE_HEADER_BYTES + 28 + gap.readUInt32BE(REPLICATION_RESPONSE_HEADER_BYTES + 24);
      gap.writeBigInt64BE(20n, second);
      expect(() => decodeReplicationResponse(gap)).toThrow(MessageEntryCorruptError);

      const huge = Buffer.from(encoded);
      huge.writeUInt32BE(0xffffffff, REPLICATION_RESPONSE_HEADER_BYTES + 24);
      expect(() => decodeReplicationResponse(huge)).toThrow(MessageEntryCorruptError);

      const negativeOffset = Buffer.from(encoded);
      negativeOffset.writeBigInt64BE(-1n, REPLICATION_RESPONSE_HEADER_BYTES);
      expect(() => decodeReplicationResponse(negativeOffset)).toThrow(MessageEntryCorruptError);
    });

    it('refuses to encode an invalid epoch or high watermark', () => {
      expect(() => encodeReplicationResponse({ leaderEpoch: -1, highWatermark: 0, records: null })).toThrow(ProtobufEncodeError);
      expect(() => encodeReplicationResponse({ leaderEpoch: 0, highWatermark: -2, records: null })).toThrow(ProtobufEncodeError);
    });
  });

  describe('LeaderEpochOffsetRequest/Response (MsgType 6/7)', () => {
    it('round-trip', () => {
      for (const epoch of [0, 1, Number.MAX_SAFE_INTEGER]) {
        const request = { leaderEpoch: epoch, currentLeaderEpoch: 7 };
        expect(decodeLeaderEpochOffsetRequest(encodeLeaderEpochOffsetRequest(request))).toEqual(request);
      }
      for (const end of [-1, 0, 123456789012]) {
        for (const epoch of [-1, 0, 7]) {
          expect(decodeLeaderEpochOffsetResponse(encodeLeaderEpochOffsetResponse({ leaderEpoch: epoch, endOffset: end }))).toEqual({ leaderEpoch: epoch, endOffset: end });
        }
      }
    });

    it('carry MsgType 6 and 7 and refuse each other', () => {
      const request = encodeLeaderEpochOffsetRequest({ leaderEpoch: 3, currentLeaderEpoch: 4 });
      const response = encodeLeaderEpochOffsetResponse({ leaderEpoch: 1, endOffset: 3 });
      expect(request[7]).toBe(6);
      expect(response[7]).toBe(7);
      expect(() => decodeLeaderEpochOffsetResponse(request)).toThrow(EnvelopeError);
      expect(() => decodeLeaderEpochOffsetRequest(response)).toThrow(EnvelopeError);
    });

    it('refuse out-of-range values', () => {
      const epochTooBig = wrapEnvelope(MsgType.LeaderEpochOffsetRequest, encodeInternalMessage('LeaderEpochOffsetRequest', { leaderEpoch: 2n ** 60n }));
      expect(() => decodeLeaderEpochOffsetRequest(epochTooBig)).toThrow(ReplicationDecodeError);
      const endBelow = wrapEnvelope(MsgType.LeaderEpochOffsetResponse, encodeInternalMessage('LeaderEpochOffsetResponse', { endOffset: -5 }));
      expect(() => decodeLeaderEpochOffsetResponse(endBelow)).toThrow(ReplicationDecodeError);
      expect(() => encodeLeaderEpochOffsetRequest({ leaderEpoch: -1, currentLeaderEpoch: 0 })).toThrow(ProtobufEncodeError);
      expect(() => encodeLeaderEpochOffsetResponse({ leaderEpoch: 0, endOffset: -2 })).toThrow(ProtobufEncodeError);
      expect(() => encodeLeaderEpochOffsetResponse({ leaderEpoch: -2, endOffset: 0 })).toThrow(ProtobufEncodeError);
    });
  });

  describe('PartitionNotification (MsgType 14)', () => {
    it('round-trips', () => {
      for (const ref of [{ stream: 'orders', partition: 0 }, { stream: 'a.b', partition: 2 ** 31 - 1 }]) {
        expect(decodePartitionNotification(encodePartitionNotification(ref))).toEqual(ref);
      }
    });

    it('refuses a missing stream, a negative partition and a wrong MsgType', () => {
      const noStream = wrapEnvelope(MsgType.PartitionNotification, encodeInternalMessage('PartitionNotification', { partition: 1 }));
      expect(() => decodePartitionNotification(noStream)).toThrow(ReplicationDecodeError);
      const negative = wrapEnvelope(MsgType.PartitionNotification, encodeInternalMessage('PartitionNotification', { stream: 's', partition: -1 }));
      expect(() => decodePartitionNotification(negative)).toThrow(ReplicationDecodeError);
      const wrongType = encodePartitionNotification({ stream: 's', partition: 0 });
      wrongType[7] = MsgType.Ack;
      expect(() => decodePartitionNotification(wrongType)).toThrow(EnvelopeError);
      expect(() => encodePartitionNotification({ stream: '', partition: 0 })).toThrow(ProtobufEncodeError);
      expect(() => encodePartitionNotification({ stream: 's', partition: -1 })).toThrow(ProtobufEncodeError);
    });
  });

  describe('on hostile input (seeded)', () => {
    const decoders: ReadonlyArray<(bytes: Uint8Array) => unknown> = [
      decodeReplicationRequest, decodeReplicationResponse, decodeLeaderEpochOffsetRequest, decodeLeaderEpochOffsetResponse, decodePartitionNotification,
    ];
    const valids: readonly Buffer[] = [
      encodeReplicationRequest({ replicaId: 'server-1', offset: 99, leaderEpoch: 3 }),
      encodeReplicationResponse({ leaderEpoch: 4, highWatermark: 11, records: threeRecords() }),
      encodeLeaderEpochOffsetRequest({ leaderEpoch: 5, currentLeaderEpoch: 6 }),
      encodeLeaderEpochOffsetResponse({ leaderEpoch: 2, endOffset: 17 }),
      encodePartitionNotification({ stream: 'orders', partition: 1 }),
    ];

    const mustOnlyThrowCodecErrors = (bytes: Uint8Array): void => {
      for (const decode of decoders) {
        try {
          decode(bytes);
        } catch (error) {
          if (!(error instanceof CodecError)) throw error;
        }
      }
    };

    it('random bytes and random bytes after a valid envelope header never throw anything but CodecError', () => {
      const headers = [2, 3, 6, 7, 14].map((t) => wrapEnvelope(t as MsgType, Buffer.alloc(0)));
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(headers.length), (tail, h) => {
          mustOnlyThrowCodecErrors(tail);
          if (h < headers.length) mustOnlyThrowCodecErrors(Buffer.concat([headers[h]!, tail]));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('mutated and truncated valid messages never throw anything but CodecError', () => {
      fc.assert(
        fc.property(
          fc.nat(valids.length - 1).chain((i) =>
            fc.tuple(
              fc.constant(i),
              fc.array(fc.tuple(fc.nat(valids[i]!.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
              fc.nat(valids[i]!.length),
            ),
          ),
          ([i, edits, cut]) => {
            const bytes = Buffer.from(valids[i]!);
            for (const [at, byte] of edits) bytes[at] = byte;
            mustOnlyThrowCodecErrors(bytes.subarray(0, cut));
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    });
  });
});
