import { crc32c } from '@node-rs/crc32';
import { decodeAckEnvelope, encodeAckEnvelope } from '../../../../src/protocol/ack-codec';
import { AckError, AckPolicy, decodeMessage, encodeMessage } from '../../../../src/protocol/api-proto';
import {
  ENVELOPE_HEADER_BYTES,
  EnvelopeError,
  MsgType,
  encodeEnvelopeHeader,
  encodeReplicationResponseHeader,
  hasEnvelopeMagic,
  parseEnvelope,
  parseReplicationResponse,
  unwrapEnvelope,
  wrapEnvelope,
  writeReplicationResponseHeader,
} from '../../../../src/protocol/envelope';
import {
  INTERNAL_PAYLOAD_TYPES,
  InternalOp,
  decodeInternalMessage,
  encodeInternalMessage,
  type InternalMessage,
  type InternalMessageName,
} from '../../../../src/adapters/codec/internal-proto';

const MAGIC = [0xb9, 0x0e, 0x43, 0xb4];

const header = (bytes: number[]): Buffer => Buffer.from(bytes);

function roundTripInternal(type: MsgType, value: InternalMessage): InternalMessage {
  const name = INTERNAL_PAYLOAD_TYPES[type] as InternalMessageName;
  const envelope = wrapEnvelope(type, encodeInternalMessage(name, value));
  return decodeInternalMessage(name, unwrapEnvelope(envelope, type));
}

describe('envelope (Go server/protocol/envelope_test.go)', () => {
  describe('round trips', () => {
    it('TestMarshalUnmarshalPublish: a Message with every field survives a type-0 envelope', () => {
      const message = {
        offset: 42n,
        key: Buffer.from('key'),
        value: Buffer.from('value'),
        timestamp: 1700000000123456789n,
        stream: 'foo',
        partition: 1,
        subject: 'foo.1',
        replySubject: 'reply',
        headers: { a: Buffer.from('b') },
        ackInbox: 'inbox',
        correlationId: 'cid',
        ackPolicy: AckPolicy.ALL,
      };
      const envelope = wrapEnvelope(MsgType.Publish, encodeMessage(message));
      expect(envelope.subarray(0, 8)).toEqual(header([...MAGIC, 0, 8, 0, 0]));
      expect(decodeMessage(unwrapEnvelope(envelope, MsgType.Publish))).toEqual({ ...message, headers: expect.objectContaining(message.headers) });
    });

    it('TestMarshalUnmarshalAck: an Ack survives a type-1 envelope', () => {
      const ack = {
        stream: 'foo', partitionSubject: 'foo', msgSubject: 'foo.1', offset: 7n, ackInbox: 'inbox',
        correlationId: 'cid', ackPolicy: AckPolicy.ALL, receptionTimestamp: 1700000000123456789n,
        commitTimestamp: 1700000000223456789n, ackError: AckError.OK,
      };
      const envelope = encodeAckEnvelope(ack);
      expect(envelope[7]).toBe(MsgType.Ack);
      expect(decodeAckEnvelope(envelope)).toEqual(ack);
    });

    it('TestMarshalUnmarshalServerInfoRequest / Response (types 10/11)', () => {
      expect(roundTripInternal(MsgType.ServerInfoRequest, { id: 'a' })).toEqual({ id: 'a' });
      expect(roundTripInternal(MsgType.ServerInfoResponse, { id: 'foo', host: '0.0.0.0', port: 4000 }))
        .toEqual({ id: 'foo', host: '0.0.0.0', port: 4000 });
    });

    it('TestMarshalUnmarshalPropagatedRequest / Response (types 8/9)', () => {
      const stream = {
        name: 'foo', subject: 'foo', creationTimestamp: 1700000000123456789n,
        partitions: [{ subject: 'foo', stream: 'foo', id: 0, replicationFactor: 3, replicas: ['a', 'b', 'c'], leader: 'a', isr: ['a', 'b', 'c'], leaderEpoch: 1n, epoch: 1n }],
      };
      const request = roundTripInternal(MsgType.PropagatedRequest, { op: InternalOp.CREATE_STREAM, createStreamOp: { stream } });
      expect(request.op).toBe(InternalOp.CREATE_STREAM);
      expect(request.createStreamOp).toMatchObject({ stream: { ...stream, partitions: [expect.objectContaining(stream.partitions[0])] } });

      const response = roundTripInternal(MsgType.PropagatedResponse, { op: InternalOp.CREATE_STREAM, error: { code: 6, msg: 'stream already exists' } });
      expect(response).toMatchObject({ op: InternalOp.CREATE_STREAM, error: { code: 6, msg: 'stream already exists' }, joinConsumerGroupResp: undefined });
    });

    it('TestMarshalUnmarshalPartitionStatusRequest / Response (types 12/13)', () => {
      expect(roundTripInternal(MsgType.PartitionStatusRequest, { stream: 'foo', partition: 1 })).toEqual({ stream: 'foo', partition: 1 });
      expect(roundTripInternal(MsgType.PartitionStatusResponse, { exists: true, isLeader: true })).toEqual({ exists: true, isLeader: true });
    });

    it('TestMarshalUnmarshalReplicationRequest (type 2)', () => {
      expect(roundTripInternal(MsgType.ReplicationRequest, { replicaID: 'b', offset: 10n, leaderEpoch: 3n }))
        .toEqual({ replicaID: 'b', offset: 10n, leaderEpoch: 3n });
      expect(roundTripInternal(MsgType.ReplicationRequest, { replicaID: 'b', offset: -1n }).offset).toBe(-1n);
    });

    it('TestMarshalUnmarshalLeaderEpochOffsetRequest / Response (types 6/7)', () => {
      // Field 2 of each is ours (KIP-320 fencing, KIP-279 epoch); absent from a Go peer, it decodes as 0.
      expect(roundTripInternal(MsgType.LeaderEpochOffsetRequest, { leaderEpoch: 2n })).toEqual({ leaderEpoch: 2n, currentLeaderEpoch: 0n });
      expect(roundTripInternal(MsgType.LeaderEpochOffsetResponse, { endOffset: 100n })).toEqual({ endOffset: 100n, leaderEpoch: 0n });
    });

    it('TestMarshalUnmarshalPartitionNotification (type 14)', () => {
      expect(roundTripInternal(MsgType.PartitionNotification, { stream: 'foo', partition: 2 })).toEqual({ stream: 'foo', partition: 2 });
    });

    it('TestMarshalUnmarshalRaftJoinRequest / Response (types 4/5)', () => {
      expect(roundTripInternal(MsgType.RaftJoinRequest, { nodeID: 'a', nodeAddr: 'a' })).toEqual({ nodeID: 'a', nodeAddr: 'a' });
      expect(roundTripInternal(MsgType.RaftJoinResponse, { error: 'nope' })).toEqual({ error: 'nope' });
    });

    it('checks and strips an optional CRC-32C', () => {
      const payload = Buffer.from('hello');
      const envelope = wrapEnvelope(MsgType.Ack, payload, { crc: true });
      expect(envelope.subarray(0, 12)).toEqual(Buffer.concat([
        header([...MAGIC, 0, 12, 1, 1]),
        Buffer.from((crc32c(payload) >>> 0).toString(16).padStart(8, '0'), 'hex'),
      ]));
      expect(parseEnvelope(envelope, MsgType.Ack)).toEqual({ kind: 'ok', msgType: MsgType.Ack, payloadStart: 12, payloadEnd: 17, crcChecked: true });
      expect(unwrapEnvelope(envelope, MsgType.Ack)).toEqual(payload);
    });

    it('accepts an envelope with an empty payload, and ignores unknown flag bits (as Go does)', () => {
      expect(unwrapEnvelope(header([...MAGIC, 0, 8, 0, 2]), MsgType.ReplicationRequest)).toHaveLength(0);
      expect(parseEnvelope(header([...MAGIC, 0, 8, 0xfe, 0, 1]), MsgType.Publish)).toMatchObject({ kind: 'ok', payloadStart: 8, payloadEnd: 9 });
    });

    it('encodes headers byte for byte', () => {
      expect(encodeEnvelopeHeader(MsgType.PartitionNotification)).toEqual(header([...MAGIC, 0, 8, 0, 14]));
      expect(encodeEnvelopeHeader(MsgType.Publish, 0x01020304)).toEqual(header([...MAGIC, 0, 12, 1, 0, 1, 2, 3, 4]));
    });
  });

  describe('rejections', () => {
    const expectNotAnEnvelope = (buf: Buffer): void => {
      expect(parseEnvelope(buf, MsgType.Publish)).toEqual({ kind: 'not-an-envelope' });
      expect(() => unwrapEnvelope(buf, MsgType.Publish)).toThrow(EnvelopeError);
    };
    const expectMalformed = (buf: Buffer, expected: MsgType, reason: string): void => {
      expect(parseEnvelope(buf, expected)).toMatchObject({ kind: 'malformed', reason });
      let thrown: unknown;
      try {
        unwrapEnvelope(buf, expected);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(EnvelopeError);
      expect(thrown).toMatchObject({ kind: 'malformed', reason });
    };

    it('TestUnmarshalEnvelopeUnderflow: an empty buffer is an error (and not an envelope)', () => {
      expectNotAnEnvelope(Buffer.alloc(0));
    });

    it('TestUnmarshalEnvelopeUnexpectedMagicNumber: "foobarbaz" is an error (and a plain payload for ingest)', () => {
      expectNotAnEnvelope(Buffer.from('foobarbaz'));
      expectNotAnEnvelope(Buffer.from([0xb9, 0x0e, 0x43]));
      expect(hasEnvelopeMagic(Buffer.from('foobarbaz'))).toBe(false);
    });

    it('TestUnmarshalEnvelopeUnexpectedProtoVersion: version 0x01 (and 0xFF) is rejected (reliability B2)', () => {
      expectMalformed(header([...MAGIC, 1, 8, 0, 0]), MsgType.Publish, 'unsupported-version');
      expectMalformed(header([...MAGIC, 0xff, 8, 0, 0]), MsgType.Publish, 'unsupported-version');
    });

    it('TestUnmarshalEnvelopeMissingCRC: CRC flag with HeaderLen 8 is rejected (B3)', () => {
      expectMalformed(header([...MAGIC, 0, 8, 1, 0, 1, 2, 3, 4]), MsgType.Publish, 'crc-flag-mismatch');
    });

    it('TestUnmarshalEnvelopeMismatchedCRC: a wrong CRC is rejected (B4)', () => {
      const envelope = wrapEnvelope(MsgType.Publish, Buffer.from('payload'), { crc: true });
      envelope[8] ^= 0xff;
      expectMalformed(envelope, MsgType.Publish, 'crc-mismatch');
      const flipped = wrapEnvelope(MsgType.Publish, Buffer.from('payload'), { crc: true });
      flipped[flipped.length - 1] ^= 0x01;
      expectMalformed(flipped, MsgType.Publish, 'crc-mismatch');
    });

    it('TestUnmarshalEnvelopeMismatchedType: a Publish envelope decoded as Ack is rejected (B5)', () => {
      expectMalformed(wrapEnvelope(MsgType.Publish, Buffer.from('x')), MsgType.Ack, 'unexpected-type');
      expectMalformed(header([...MAGIC, 0, 8, 0, 200]), MsgType.Publish, 'unexpected-type');
    });

    it('rejects a magic prefix shorter than the 8-byte header', () => {
      expectMalformed(header([...MAGIC]), MsgType.Publish, 'truncated-header');
      expectMalformed(header([...MAGIC, 0, 8, 0]), MsgType.Publish, 'truncated-header');
    });

    it('rejects HeaderLen other than 8/12, beyond the buffer, or 12 without the CRC flag (B3, Go quirk 8)', () => {
      expectMalformed(header([...MAGIC, 0, 0, 0, 0]), MsgType.Publish, 'invalid-header-length');
      expectMalformed(header([...MAGIC, 0, 7, 0, 0]), MsgType.Publish, 'invalid-header-length');
      expectMalformed(header([...MAGIC, 0, 9, 0, 0, 0]), MsgType.Publish, 'invalid-header-length');
      expectMalformed(header([...MAGIC, 0, 255, 0, 0]), MsgType.Publish, 'invalid-header-length');
      expectMalformed(header([...MAGIC, 0, 12, 1, 0, 0, 0]), MsgType.Publish, 'invalid-header-length');
      expectMalformed(header([...MAGIC, 0, 12, 0, 0, 0, 0, 0, 0]), MsgType.Publish, 'crc-flag-mismatch');
    });
  });

  describe('ReplicationResponse', () => {
    it('TestWriteReplicationResponseHeader: exactly B9 0E 43 B4 00 08 00 03', () => {
      const buf = Buffer.alloc(8);
      expect(writeReplicationResponseHeader(buf)).toBe(8);
      expect(buf).toEqual(header([0xb9, 0x0e, 0x43, 0xb4, 0x00, 0x08, 0x00, 0x03]));
    });

    it('TestMarshalUnmarshalReplicationResponse: epoch 2, HW 100 and "blah" decode back exactly', () => {
      const response = Buffer.concat([encodeReplicationResponseHeader(2n, 100n), Buffer.from('blah')]);
      const parsed = parseReplicationResponse(response);
      expect(parsed.leaderEpoch).toBe(2n);
      expect(parsed.highWatermark).toBe(100n);
      expect(response.subarray(parsed.dataStart)).toEqual(Buffer.from('blah'));
    });

    it('TestUnmarshalReplicationResponseEmptyData: epoch 5, HW 200, no data', () => {
      const parsed = parseReplicationResponse(encodeReplicationResponseHeader(5n, 200n));
      expect(parsed).toEqual({ leaderEpoch: 5n, highWatermark: 200n, dataStart: 24 });
    });

    it('keeps a -1 high watermark and a large epoch', () => {
      const parsed = parseReplicationResponse(encodeReplicationResponseHeader(2n ** 64n - 1n, -1n));
      expect(parsed).toMatchObject({ leaderEpoch: 2n ** 64n - 1n, highWatermark: -1n });
    });

    it('TestUnmarshalReplicationResponseNotEnoughData: 8 bytes after the header is an error (B7)', () => {
      const short = Buffer.concat([header([...MAGIC, 0, 8, 0, 3]), Buffer.alloc(8)]);
      expect(() => parseReplicationResponse(short)).toThrow(/not enough data/);
    });

    it('TestUnmarshalReplicationResponseInvalidEnvelope: empty or non-envelope data is an error', () => {
      expect(() => parseReplicationResponse(Buffer.alloc(0))).toThrow(EnvelopeError);
      expect(() => parseReplicationResponse(Buffer.from('foobarbazquxquuxcorgegraultgarply'))).toThrow(EnvelopeError);
      expect(ENVELOPE_HEADER_BYTES).toBe(8);
    });
  });
});
