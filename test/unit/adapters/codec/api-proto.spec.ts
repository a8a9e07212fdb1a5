import * as api from '../../../../src/protocol/api-proto';
import { ProtobufDecodeError, ProtobufEncodeError } from '../../../../src/protocol/codec-errors';
import { findProtoDirectory } from '../../../../src/protocol/proto-schema';
import * as path from 'node:path';

const NS_TIMESTAMP = 1700000000123456789n; // > 2^53: lossy as a JS number

/** The protobufjs type, used as the oracle. */
const oracle = (name: string) => api.apiProtoRoot().lookupType(`proto.${name}`);

describe('api.proto codecs', () => {
  it('finds the proto directory from src/ (and, by the same walk, from dist/src/)', () => {
    expect(findProtoDirectory()).toBe(path.resolve(__dirname, '../../../../proto'));
    expect(findProtoDirectory(path.resolve(__dirname, '../../../../dist/src/adapters/codec'))).toBe(findProtoDirectory());
  });

  it('declares the 16 RPCs of proto.API with their streaming kinds', () => {
    const service = api.apiProtoRoot().lookupService('proto.API');
    const kinds = Object.fromEntries(service.methodsArray.map((m) => [m.name, [!!m.requestStream, !!m.responseStream]]));
    expect(Object.keys(kinds)).toHaveLength(16);
    expect(kinds['Subscribe']).toEqual([false, true]);
    expect(kinds['PublishAsync']).toEqual([true, true]);
    expect(kinds['CreateStream']).toEqual([false, false]);
  });

  it('pins field numbers that clients depend on', () => {
    const id = (type: string, field: string): number => oracle(type).fields[field]!.id;
    expect(id('CreateStreamRequest', 'encryption')).toBe(18);
    expect(id('SubscribeRequest', 'consumer')).toBe(11);
    expect(id('SubscribeRequest', 'reverse')).toBe(12);
    expect(id('PublishRequest', 'expectedOffset')).toBe(9);
    expect(id('FetchMetadataResponse', 'streamMetadata')).toBe(2);
    expect(id('Message', 'ackPolicy')).toBe(12);
    expect(id('Ack', 'ackError')).toBe(10);
    expect(id('PartitionMetadata', 'readonlyTimestamps')).toBe(11);
    expect(id('ActivityStreamEvent', 'leaveConsumerGroupOp')).toBe(9);
  });

  describe('round trips with bigint precision', () => {
    it('SubscribeRequest keeps ns timestamps, -1 offsets and a max uint64 epoch', () => {
      const request: api.SubscribeRequest = {
        stream: 'foo', partition: 3, startPosition: api.StartPosition.TIMESTAMP, startOffset: -1n,
        startTimestamp: NS_TIMESTAMP, readISRReplica: true, resume: true, stopPosition: api.StopPosition.STOP_TIMESTAMP,
        stopOffset: 2n ** 63n - 1n, stopTimestamp: -(2n ** 63n),
        consumer: { groupId: 'g', groupEpoch: 2n ** 64n - 1n, consumerId: 'c' }, reverse: true,
      };
      const bytes = api.encodeSubscribeRequest(request);
      expect(api.decodeSubscribeRequest(bytes)).toEqual(request);
      const viaOracle = oracle('SubscribeRequest').toObject(oracle('SubscribeRequest').decode(bytes), { longs: String });
      expect(viaOracle['startTimestamp']).toBe(NS_TIMESTAMP.toString());
    });

    it('decodes absent fields as proto3 defaults and absent wrappers as undefined', () => {
      expect(api.decodeCreateStreamRequest(Buffer.alloc(0))).toEqual({
        subject: '', name: '', group: '', replicationFactor: 0, partitions: 0,
        retentionMaxBytes: undefined, retentionMaxMessages: undefined, retentionMaxAge: undefined,
        cleanerInterval: undefined, segmentMaxBytes: undefined, segmentMaxAge: undefined,
        compactMaxGoroutines: undefined, compactEnabled: undefined, autoPauseTime: undefined,
        autoPauseDisableIfSubscribers: undefined, minIsr: undefined, optimisticConcurrencyControl: undefined,
        encryption: undefined,
      });
    });

    it('CreateStreamRequest distinguishes a wrapper holding the default from an absent one', () => {
      const decoded = api.decodeCreateStreamRequest(api.encodeCreateStreamRequest({
        name: 'foo', subject: 'foo', replicationFactor: -1, partitions: 2,
        retentionMaxAge: { value: 0n }, compactEnabled: { value: false }, minIsr: { value: 2 },
        segmentMaxBytes: { value: 2n ** 40n },
      }));
      expect(decoded.retentionMaxAge).toEqual({ value: 0n });
      expect(decoded.compactEnabled).toEqual({ value: false });
      expect(decoded.minIsr).toEqual({ value: 2 });
      expect(decoded.segmentMaxBytes).toEqual({ value: 2n ** 40n });
      expect(decoded.retentionMaxBytes).toBeUndefined();
      expect(decoded.replicationFactor).toBe(-1);
    });

    it('FetchMetadataResponse keeps the int32-keyed partition map and nested timestamps', () => {
      const partition: api.PartitionMetadata = {
        id: 7, leader: 'a', replicas: ['a', 'b'], isr: ['a'], highWatermark: -1n, newestOffset: 2n ** 60n,
        paused: true, readonly: true,
        messagesReceivedTimestamps: { firstTimestamp: NS_TIMESTAMP, latestTimestamp: NS_TIMESTAMP + 1n },
        pauseTimestamps: undefined, readonlyTimestamps: { firstTimestamp: 1n, latestTimestamp: 0n },
      };
      const response: api.FetchMetadataResponse = {
        brokers: [{ id: 'a', host: '127.0.0.1', port: 9292, partitionCount: 3, leaderCount: 1 }],
        streamMetadata: [{ name: 'foo', subject: 'foo', error: api.StreamMetadataError.OK, partitions: { 7: partition }, creationTimestamp: NS_TIMESTAMP }],
        groupMetadata: [{ groupId: 'g', error: api.ConsumerGroupMetadataError.UNKNOWN_GROUP, coordinator: 'a', epoch: 9n }],
      };
      const decoded = api.decodeFetchMetadataResponse(api.encodeFetchMetadataResponse(response));
      expect(decoded.streamMetadata[0]!.partitions[7]).toEqual(partition);
      expect({ ...decoded, streamMetadata: [{ ...decoded.streamMetadata[0], partitions: { ...decoded.streamMetadata[0]!.partitions } }] })
        .toEqual(response);
    });

    it('PublishRequest keeps bytes, headers and expectedOffset -1', () => {
      const request = {
        key: Buffer.from([0, 1, 2]), value: Buffer.from('hello'), stream: 's', partition: 1,
        headers: { h: Buffer.from('v'), empty: Buffer.alloc(0) }, ackInbox: 'i', correlationId: 'c',
        ackPolicy: api.AckPolicy.NONE, expectedOffset: -1n,
      };
      const decoded = api.decodePublishRequest(api.encodePublishRequest(request));
      expect({ ...decoded, headers: { ...decoded.headers } }).toEqual(request);
    });

    it('round-trips every remaining RPC message', () => {
      const cases: Array<[keyof api.ApiMessages, Record<string, unknown>]> = [
        ['DeleteStreamRequest', { name: 'foo' }],
        ['PauseStreamRequest', { name: 'foo', partitions: [0, 2], resumeAll: true }],
        ['SetStreamReadonlyRequest', { name: 'foo', partitions: [], readonly: true }],
        ['FetchMetadataRequest', { streams: ['a', 'b'], groups: ['g'] }],
        ['FetchPartitionMetadataRequest', { stream: 'foo', partition: 1 }],
        ['FetchPartitionMetadataResponse', { metadata: undefined }],
        ['PublishResponse', { ack: undefined, asyncError: { code: api.PublishAsyncErrorCode.INCORRECT_OFFSET, message: 'no' }, correlationId: 'c' }],
        ['PublishToSubjectRequest', { key: Buffer.from('k'), value: Buffer.alloc(0), subject: 'x', headers: {}, ackInbox: '', correlationId: '', ackPolicy: 1 }],
        ['SetCursorRequest', { stream: 's', partition: 0, cursorId: 'c', offset: 2n ** 62n }],
        ['FetchCursorRequest', { stream: 's', partition: 0, cursorId: 'c' }],
        ['FetchCursorResponse', { offset: -1n }],
        ['JoinConsumerGroupRequest', { groupId: 'g', consumerId: 'c', streams: ['s'] }],
        ['JoinConsumerGroupResponse', { coordinator: 'a', epoch: 3n, consumerTimeout: 15000000000n, coordinatorTimeout: 15000000000n }],
        ['LeaveConsumerGroupRequest', { groupId: 'g', consumerId: 'c' }],
        ['FetchConsumerGroupAssignmentsRequest', { groupId: 'g', consumerId: 'c', epoch: 4n }],
        ['FetchConsumerGroupAssignmentsResponse', { epoch: 4n, assignments: [{ stream: 's', partitions: [0, 1] }] }],
        ['ReportConsumerGroupCoordinatorRequest', { groupId: 'g', consumerId: 'c', coordinator: 'b', epoch: 5n }],
        ['ActivityStreamEvent', {
          id: 2n ** 64n - 2n, op: api.ActivityStreamOp.LEAVE_CONSUMER_GROUP, createStreamOp: undefined, deleteStreamOp: undefined,
          pauseStreamOp: undefined, resumeStreamOp: undefined, setStreamReadonlyOp: undefined, joinConsumerGroupOp: undefined,
          leaveConsumerGroupOp: { groupId: 'g', consumerId: 'c', expired: true },
        }],
      ];
      for (const [name, value] of cases) {
        const codec = api.apiCodec(name) as api.MessageCodec<Record<string, unknown>>;
        const decoded = codec.decode(codec.encode(value));
        expect(JSON.parse(JSON.stringify(decoded, bigintReplacer))).toEqual(JSON.parse(JSON.stringify(value, bigintReplacer)));
      }
    });

    it('encodes empty responses as zero bytes', () => {
      expect(api.encodeCreateStreamResponse({})).toHaveLength(0);
      expect(api.decodeSetCursorResponse(Buffer.alloc(0))).toEqual({});
    });
  });

  describe('canonical encoding', () => {
    it('omits proto3 defaults, as Go does', () => {
      expect(api.encodeSubscribeRequest({ stream: '', partition: 0, startOffset: 0n, reverse: false })).toHaveLength(0);
      expect(api.encodeMessage({ offset: 0n, key: Buffer.alloc(0), headers: {} })).toHaveLength(0);
    });

    it('produces the bytes the oracle produces for the same values', () => {
      const value = { stream: 'foo', partition: 1, startPosition: 1, startOffset: '-1', startTimestamp: NS_TIMESTAMP.toString() };
      const expected = Buffer.from(oracle('SubscribeRequest').encode(oracle('SubscribeRequest').fromObject(value)).finish());
      expect(api.encodeSubscribeRequest({ stream: 'foo', partition: 1, startPosition: 1, startOffset: -1n, startTimestamp: NS_TIMESTAMP }))
        .toEqual(expected);
      expect(expected.toString('hex')).toBe('0a03666f6f10011801' + '20ffffffffffffffffff01' + '28959a97ece39fe7cb17');
    });

    it('accepts safe-integer numbers for 64-bit fields', () => {
      expect(api.decodeFetchCursorResponse(api.encodeFetchCursorResponse({ offset: -1 })).offset).toBe(-1n);
    });
  });

  describe('bad values and bad bytes', () => {
    it('rejects wrongly typed or out-of-range values with ProtobufEncodeError', () => {
      const bad: Array<() => Buffer> = [
        () => api.encodeDeleteStreamRequest({ name: 5 as unknown as string }),
        () => api.encodeFetchCursorResponse({ offset: 2n ** 63n }),
        () => api.encodeFetchCursorResponse({ offset: 2 ** 60 }),
        () => api.encodeFetchConsumerGroupAssignmentsResponse({ epoch: -1n }),
        () => api.encodeFetchPartitionMetadataRequest({ partition: 2 ** 31 }),
        () => api.encodeFetchPartitionMetadataRequest({ partition: 1.5 }),
        () => api.encodePublishRequest({ key: 'text' as unknown as Uint8Array }),
        () => api.encodePauseStreamRequest({ partitions: 3 as unknown as number[] }),
        () => api.encodeCreateStreamRequest({ minIsr: 3 as unknown as { value: number } }),
      ];
      for (const encode of bad) expect(encode).toThrow(ProtobufEncodeError);
    });

    it('rejects truncated and overlong input with ProtobufDecodeError', () => {
      const valid = api.encodeSubscribeRequest({ stream: 'foo', startTimestamp: NS_TIMESTAMP });
      // 0a 03 'foo' | 28 <9-byte varint>: every cut except the field boundary at 5 is truncated.
      for (let cut = 1; cut < valid.length; cut++) {
        if (cut === 5) continue;
        expect(() => api.decodeSubscribeRequest(valid.subarray(0, cut))).toThrow(ProtobufDecodeError);
      }
      // A 2^31 length prefix on a string field: rejected without allocating.
      expect(() => api.decodeDeleteStreamRequest(Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x61]))).toThrow(/malformed proto.DeleteStreamRequest/);
      // Wire types 6 and 7 do not exist.
      expect(() => api.decodeMessage(Buffer.from([0x0e]))).toThrow(ProtobufDecodeError);
    });

    it('ignores unknown fields', () => {
      const withUnknown = Buffer.concat([api.encodeDeleteStreamRequest({ name: 'foo' }), Buffer.from([0xf8, 0x01, 0x05])]);
      expect(api.decodeDeleteStreamRequest(withUnknown)).toEqual({ name: 'foo' });
    });
  });
});

function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') return value;
  return value;
}
