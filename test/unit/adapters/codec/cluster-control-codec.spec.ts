import * as fc from 'fast-check';
import type { BrokerHeartbeat, ForwardedAnswer } from '../../../../src/application/ports/cluster-channel.port';
import {
  ClusterControlDecodeError,
  decodeForwardedAnswer,
  decodeForwardedCommand,
  decodeHeartbeat,
  decodeJoinRequest,
  decodeJoinResponse,
  encodeForwardedAnswer,
  encodeForwardedCommand,
  encodeHeartbeat,
  encodeJoinRequest,
  encodeJoinResponse,
  FORWARDED_ANSWER_MSG_TYPE,
  FORWARDED_COMMAND_MSG_TYPE,
} from '../../../../src/adapters/codec/cluster-control-codec';
import { CodecError } from '../../../../src/protocol/codec-errors';
import { EnvelopeError, MsgType, wrapEnvelope } from '../../../../src/protocol/envelope';
import { encodeInternalMessage } from '../../../../src/adapters/codec/internal-proto';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { createStream } from '../../../support/metadata-mothers';

const SEED = 0xc1a5;
const RUNS = 300;

const MAGIC = [0xb9, 0x0e, 0x43, 0xb4];

/** A payload of ours, wrapped as the codec wraps it (CRC on). */
const json = (type: MsgType, value: unknown): Buffer => wrapEnvelope(type, Buffer.from(JSON.stringify(value), 'utf8'), { crc: true });
const commandBytes = (value: unknown): Buffer => json(FORWARDED_COMMAND_MSG_TYPE, value);
const answerBytes = (value: unknown): Buffer => json(FORWARDED_ANSWER_MSG_TYPE, value);

/** Runs `decode` and returns what it threw; fails the test when it returns. */
function thrown(decode: () => unknown): unknown {
  try {
    decode();
  } catch (error) {
    return error;
  }
  throw new Error('expected the decoder to throw');
}

const COMMANDS: MetadataCommand[] = [
  { type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } },
  { type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1700000000000000001' } },
  { type: 'ShrinkIsr', data: { stream: 'orders', partition: 0, replica: 'c', leader: 'a', leaderEpoch: 7 } },
  { type: 'ExpandIsr', data: { stream: 'orders', partition: 0, replica: 'c', leader: 'a', leaderEpoch: 7 } },
  { type: 'ChangePartitionLeader', data: { stream: 'orders', partition: 1, failedLeader: 'a' } },
  {
    type: 'VacateBroker',
    data: { broker: 'a', atNs: '20', leads: [{ stream: 'orders', partition: 1, leaderEpoch: 9 }], follows: [{ stream: 'orders', partition: 2, leaderEpoch: 9, isrSizeMin: 2 }] },
  },
  createStream('orders', { replicationFactor: -1, partitions: 3, config: { retentionMaxBytes: 1024 } }),
  { type: 'DeleteStream', data: { name: 'orders' } },
  { type: 'PauseStream', data: { name: 'orders', partitions: [0, 2], resumeAll: true, atNs: '17' } },
  { type: 'ResumeStream', data: { name: 'orders', partitions: [], atNs: '18' } },
  { type: 'SetStreamReadonly', data: { name: 'orders', partitions: [1], readonly: true, atNs: '19' } },
  { type: 'JoinConsumerGroup', data: { group: 'g', consumer: 'c1', streams: ['orders'] } },
  { type: 'LeaveConsumerGroup', data: { group: 'g', consumer: 'c1', expired: true } },
  { type: 'ReportGroupCoordinator', data: { group: 'g', consumer: 'c1', coordinator: 'a', epoch: 12 } },
  { type: 'ChangeGroupCoordinator', data: { group: 'g', coordinator: 'a', epoch: 12 } },
];

const ANSWERS: ForwardedAnswer[] = [
  {
    kind: 'applied',
    index: 42,
    events: [
      { type: 'StreamCreated', data: { name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitionCount: 1, config: {}, creationTimestampNs: '1' } },
      { type: 'PartitionCreated', data: { stream: 'orders', partition: 0, replicas: ['a'], leader: 'a' } },
    ],
  },
  { kind: 'applied', index: 0, events: [] },
  { kind: 'refused', error: { kind: 'StreamAlreadyExists', stream: 'orders' } },
  { kind: 'refused', error: { kind: 'InvalidReplicationFactor', replicationFactor: 3, clusterSize: 2 } },
  { kind: 'refused', error: { kind: 'NoBrokers' } },
  { kind: 'unavailable', reason: 'not the controller' },
];

describe('cluster control codec (docs/cluster.md "Wire")', () => {
  describe('round trips', () => {
    it.each(COMMANDS.map((c) => [c.type, c] as const))('a forwarded %s command', (_type, command) => {
      const bytes = encodeForwardedCommand(command);
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([...MAGIC, 0, 12, 1, 101]));
      expect(decodeForwardedCommand(bytes)).toEqual(command);
    });

    it.each(ANSWERS.map((a) => [a.kind, a] as const))('a forwarded "%s" answer (case %#)', (_kind, answer) => {
      const bytes = encodeForwardedAnswer(answer);
      expect(bytes[7]).toBe(102);
      expect(decodeForwardedAnswer(bytes)).toEqual(answer);
    });

    it('a join request carries the server id as Liftbridge\'s RaftJoinRequest (MsgType 4, no CRC)', () => {
      const bytes = encodeJoinRequest('server-b');
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([...MAGIC, 0, 8, 0, MsgType.RaftJoinRequest]));
      expect(decodeJoinRequest(bytes)).toBe('server-b');
    });

    it.each([[''], ['not the controller']])('a join response with error %j (MsgType 5)', (error) => {
      const bytes = encodeJoinResponse(error);
      expect(bytes[7]).toBe(MsgType.RaftJoinResponse);
      expect(decodeJoinResponse(bytes)).toBe(error);
    });

    it('a join request written by another encoder (Go-style, nodeAddr differs) still yields the node id', () => {
      const bytes = wrapEnvelope(MsgType.RaftJoinRequest, encodeInternalMessage('RaftJoinRequest', { nodeID: 'b', nodeAddr: 'nats://b:4222' }));
      expect(decodeJoinRequest(bytes)).toBe('b');
    });

    it('a heartbeat as a ServerInfoResponse (MsgType 11)', () => {
      const beat: BrokerHeartbeat = { id: 'a', host: '10.0.0.1', port: 9292 };
      const bytes = encodeHeartbeat(beat);
      expect(bytes[7]).toBe(MsgType.ServerInfoResponse);
      expect(decodeHeartbeat(bytes)).toEqual(beat);
    });

    it('property: every forwarded command and answer survives encoding', () => {
      const text = fc.string({ maxLength: 20 });
      const command = fc.record({
        type: fc.constant('DeleteStream' as const),
        data: fc.record({ name: text }),
      });
      const answer = fc.oneof(
        fc.record({ kind: fc.constant('unavailable' as const), reason: text }),
        fc.record({ kind: fc.constant('refused' as const), error: fc.record({ kind: fc.constant('StreamNotFound' as const), stream: text }) }),
        fc.record({ kind: fc.constant('applied' as const), index: fc.maxSafeNat(), events: fc.array(fc.record({ type: fc.constant('StreamDeleted' as const), data: fc.record({ name: text }) }), { maxLength: 3 }) }),
      );
      fc.assert(fc.property(command, answer, (c, a) => {
        expect(decodeForwardedCommand(encodeForwardedCommand(c))).toEqual(c);
        expect(decodeForwardedAnswer(encodeForwardedAnswer(a))).toEqual(a);
      }), { seed: SEED, numRuns: RUNS });
    });
  });

  describe('malformed input is rejected with a CodecError', () => {
    const valid = encodeForwardedCommand(COMMANDS[0] as MetadataCommand);

    it.each([
      ['empty', Buffer.alloc(0)],
      ['no magic', Buffer.from('{"v":1}')],
      ['a truncated header', valid.subarray(0, 6)],
      ['a header whose CRC does not fit', valid.subarray(0, 10)],
    ])('a forwarded command that is %s', (_what, bytes) => {
      expect(thrown(() => decodeForwardedCommand(bytes))).toBeInstanceOf(EnvelopeError);
    });

    it('a truncated payload fails the CRC', () => {
      const error = thrown(() => decodeForwardedCommand(valid.subarray(0, valid.length - 3)));
      expect(error).toMatchObject({ kind: 'malformed', reason: 'crc-mismatch' });
    });

    it('a flipped payload byte fails the CRC', () => {
      const bytes = Buffer.from(valid);
      bytes[20] = (bytes[20] as number) ^ 0x01;
      expect(thrown(() => decodeForwardedCommand(bytes))).toMatchObject({ reason: 'crc-mismatch' });
    });

    it('a command is not an answer, nor the reverse (MsgType checked)', () => {
      expect(thrown(() => decodeForwardedAnswer(valid))).toMatchObject({ reason: 'unexpected-type' });
      expect(thrown(() => decodeForwardedCommand(encodeForwardedAnswer(ANSWERS[1] as ForwardedAnswer)))).toMatchObject({ reason: 'unexpected-type' });
      expect(thrown(() => decodeJoinRequest(encodeJoinResponse('')))).toMatchObject({ reason: 'unexpected-type' });
      expect(thrown(() => decodeHeartbeat(encodeJoinRequest('a')))).toMatchObject({ reason: 'unexpected-type' });
    });

    it.each([
      ['not JSON', Buffer.from('{"v":1,', 'utf8')],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
      ['empty', Buffer.alloc(0)],
    ])('a payload that is %s', (_what, payload) => {
      for (const [type, decode] of [[FORWARDED_COMMAND_MSG_TYPE, decodeForwardedCommand], [FORWARDED_ANSWER_MSG_TYPE, decodeForwardedAnswer]] as const) {
        const error = thrown(() => decode(wrapEnvelope(type, payload, { crc: true })));
        expect(error).toBeInstanceOf(ClusterControlDecodeError);
        expect((error as Error).message).toMatch(/is not UTF-8 JSON/);
      }
    });

    it.each([
      ['another schema version', { v: 3, command: COMMANDS[0] }],
      ['no schema version', { command: COMMANDS[0] }],
      ['a string version', { v: '1', command: COMMANDS[0] }],
      ['JSON null', null],
      ['a JSON array', [1, COMMANDS[0]]],
      ['a JSON number', 1],
    ])('a forwarded command with %s', (_what, value) => {
      expect(thrown(() => decodeForwardedCommand(commandBytes(value)))).toBeInstanceOf(ClusterControlDecodeError);
      expect(thrown(() => decodeForwardedAnswer(answerBytes(value)))).toBeInstanceOf(ClusterControlDecodeError);
    });

    it.each([
      ['no command', { v: 1 }],
      ['a null command', { v: 1, command: null }],
      ['a string command', { v: 1, command: 'CreateStream' }],
      ['an unknown command type', { v: 1, command: { type: 'ReassignPartition', data: {} } }],
      ['a command type inherited from Object', { v: 1, command: { type: 'toString', data: {} } }],
      ['a numeric command type', { v: 1, command: { type: 3, data: {} } }],
      ['no data', { v: 1, command: { type: 'DeleteStream' } }],
      ['null data', { v: 1, command: { type: 'DeleteStream', data: null } }],
      ['string data', { v: 1, command: { type: 'DeleteStream', data: 'orders' } }],
    ])('a forwarded command with %s', (_what, value) => {
      const error = thrown(() => decodeForwardedCommand(commandBytes(value)));
      expect(error).toBeInstanceOf(ClusterControlDecodeError);
      expect((error as Error).message).toBe('forwarded command has no known type or no data');
    });

    it.each([
      ['no answer', { v: 1 }],
      ['a null answer', { v: 1, answer: null }],
      ['an unknown kind', { v: 1, answer: { kind: 'maybe' } }],
      ['"applied" without events', { v: 1, answer: { kind: 'applied', index: 1 } }],
      ['"applied" with events not an array', { v: 1, answer: { kind: 'applied', index: 1, events: {} } }],
      ['"applied" without index', { v: 1, answer: { kind: 'applied', events: [] } }],
      ['"applied" with a fractional index', { v: 1, answer: { kind: 'applied', events: [], index: 1.5 } }],
      ['"applied" with an index past 2^53', { v: 1, answer: { kind: 'applied', events: [], index: 2 ** 53 } }],
      ['"applied" with a string index', { v: 1, answer: { kind: 'applied', events: [], index: '1' } }],
      ['"refused" without error', { v: 1, answer: { kind: 'refused' } }],
      ['"refused" with a null error', { v: 1, answer: { kind: 'refused', error: null } }],
      ['"refused" with an error without kind', { v: 1, answer: { kind: 'refused', error: { stream: 'orders' } } }],
      ['"refused" with a string error', { v: 1, answer: { kind: 'refused', error: 'StreamAlreadyExists' } }],
      ['"unavailable" without reason', { v: 1, answer: { kind: 'unavailable' } }],
      ['"unavailable" with a numeric reason', { v: 1, answer: { kind: 'unavailable', reason: 503 } }],
    ])('a forwarded answer with %s', (_what, value) => {
      const error = thrown(() => decodeForwardedAnswer(answerBytes(value)));
      expect(error).toBeInstanceOf(ClusterControlDecodeError);
      expect((error as Error).message).toBe('forwarded answer is malformed');
    });

    it('a join request with an empty or missing node id', () => {
      for (const message of [{ nodeID: '', nodeAddr: 'x' }, { nodeAddr: 'x' }, {}]) {
        const bytes = wrapEnvelope(MsgType.RaftJoinRequest, encodeInternalMessage('RaftJoinRequest', message));
        expect(thrown(() => decodeJoinRequest(bytes))).toBeInstanceOf(ClusterControlDecodeError);
      }
    });

    it('a heartbeat with an empty id', () => {
      const bytes = wrapEnvelope(MsgType.ServerInfoResponse, encodeInternalMessage('ServerInfoResponse', { id: '', host: 'h', port: 1 }));
      expect(thrown(() => decodeHeartbeat(bytes))).toBeInstanceOf(ClusterControlDecodeError);
    });

    it.each([
      ['join request', MsgType.RaftJoinRequest, decodeJoinRequest],
      ['join response', MsgType.RaftJoinResponse, decodeJoinResponse],
      ['heartbeat', MsgType.ServerInfoResponse, decodeHeartbeat],
    ] as const)('a %s whose protobuf is garbage', (_what, type, decode) => {
      // Field 1, wire type 2 (length-delimited), claiming 100 bytes that are not there.
      const bytes = wrapEnvelope(type, Buffer.from([0x0a, 0x64, 0x41]));
      expect(thrown(() => decode(bytes))).toBeInstanceOf(CodecError);
    });
  });

  describe('hostile input (seeded)', () => {
    const decoders: ReadonlyArray<[string, MsgType, (bytes: Uint8Array) => unknown]> = [
      ['forwarded command', FORWARDED_COMMAND_MSG_TYPE, decodeForwardedCommand],
      ['forwarded answer', FORWARDED_ANSWER_MSG_TYPE, decodeForwardedAnswer],
      ['join request', MsgType.RaftJoinRequest, decodeJoinRequest],
      ['join response', MsgType.RaftJoinResponse, decodeJoinResponse],
      ['heartbeat', MsgType.ServerInfoResponse, decodeHeartbeat],
    ];

    /** 'ok' or 'rejected'; any exception that is not a CodecError fails the property. */
    function outcome(decode: () => unknown): 'ok' | 'rejected' {
      try {
        decode();
        return 'ok';
      } catch (error) {
        if (error instanceof CodecError) return 'rejected';
        throw error;
      }
    }

    it('random bytes, bare or inside a valid envelope of the right type, never throw anything but a CodecError', () => {
      const bytes = fc.uint8Array({ maxLength: 128 }).map((a) => Buffer.from(a));
      fc.assert(fc.property(bytes, fc.boolean(), fc.boolean(), (payload, wrap, crc) => {
        for (const [, type, decode] of decoders) {
          outcome(() => decode(wrap ? wrapEnvelope(type, payload, { crc }) : payload));
        }
      }), { seed: SEED, numRuns: RUNS });
    });

    it('random JSON inside our envelopes is decoded or rejected with a CodecError', () => {
      const value = fc.oneof(
        fc.jsonValue(),
        fc.record({ v: fc.constant(1), command: fc.jsonValue() }),
        fc.record({ v: fc.constant(1), command: fc.record({ type: fc.constantFrom('CreateStream', 'DeleteStream', 'x'), data: fc.jsonValue() }) }),
        fc.record({ v: fc.constant(1), answer: fc.record({ kind: fc.constantFrom('applied', 'refused', 'unavailable'), index: fc.jsonValue(), events: fc.jsonValue(), error: fc.jsonValue(), reason: fc.jsonValue() }, { requiredKeys: ['kind'] }) }),
      );
      fc.assert(fc.property(value, (v) => {
        outcome(() => decodeForwardedCommand(commandBytes(v)));
        outcome(() => decodeForwardedAnswer(answerBytes(v)));
      }), { seed: SEED, numRuns: RUNS });
    });

    it('valid messages with a few bytes overwritten or cut never throw anything but a CodecError', () => {
      const samples = [
        encodeForwardedCommand(COMMANDS[2] as MetadataCommand),
        encodeForwardedAnswer(ANSWERS[0] as ForwardedAnswer),
        encodeJoinRequest('server-b'),
        encodeJoinResponse('not the controller'),
        encodeHeartbeat({ id: 'a', host: 'h', port: 9292 }),
      ];
      const mutation = fc.record({
        sample: fc.nat(samples.length - 1),
        edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        cut: fc.nat(),
      });
      fc.assert(fc.property(mutation, ({ sample, edits, cut }) => {
        const original = samples[sample] as Buffer;
        const b = Buffer.from(original);
        for (const [at, byte] of edits) b[at % b.length] = byte;
        const mutated = b.subarray(0, cut % (b.length + 1));
        for (const [, , decode] of decoders) outcome(() => decode(mutated));
      }), { seed: SEED, numRuns: RUNS });
    });
  });
});
