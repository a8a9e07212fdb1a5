import * as fc from 'fast-check';
import { apiCodec, decodeMessage, encodeMessage, type ApiMessages } from '../../../../src/protocol/api-proto';
import { CodecError } from '../../../../src/protocol/codec-errors';
import { MsgType, parseEnvelope, wrapEnvelope } from '../../../../src/protocol/envelope';
import { decodeHealthCheckRequest } from '../../../../src/protocol/health-proto';
import { decodeInternalMessage, type InternalMessageName } from '../../../../src/adapters/codec/internal-proto';
import { decodePublishMessage } from '../../../../src/protocol/publish-message-codec';
import { SubscribeMessageEncoder } from '../../../../src/adapters/codec/subscribe-message-codec';

/**
 * Seeded fuzzing of every decoder (docs/reliability.md "Bad inputs", A17, B6, B9): on random and on mutated valid
 * input each must either return or throw a CodecError, never anything else (no RangeError from a
 * Buffer read, no TypeError, no crash). The seed makes every failure reproducible.
 */

const SEED = 0x5eed;
const RUNS = 300;

/** A decoder outcome: 'ok' or 'rejected'; any other exception fails the property. */
function outcome(decode: () => unknown): 'ok' | 'rejected' {
  try {
    decode();
    return 'ok';
  } catch (error) {
    if (error instanceof CodecError) return 'rejected';
    throw error;
  }
}

const validMessage = encodeMessage({
  offset: -1n, key: Buffer.from('key'), value: Buffer.from('value'), timestamp: 1700000000123456789n,
  stream: 'stream', partition: 2, subject: 'subject', replySubject: 'reply',
  headers: { a: Buffer.from('1'), bb: Buffer.from('22') }, ackInbox: 'inbox', correlationId: 'cid', ackPolicy: 1,
});

/** Random bytes, or a valid Message with a few bytes overwritten / truncated. */
const fuzzBytes = fc.oneof(
  fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.array(fc.tuple(fc.nat(validMessage.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(validMessage.length))
    .map(([edits, cut]) => {
      const b = Buffer.from(validMessage);
      for (const [at, byte] of edits) b[at] = byte;
      return b.subarray(0, cut);
    }),
);

const API_NAMES: Array<keyof ApiMessages> = [
  'CreateStreamRequest', 'SubscribeRequest', 'FetchMetadataRequest', 'FetchMetadataResponse', 'PublishRequest',
  'PublishResponse', 'Message', 'Ack', 'JoinConsumerGroupResponse', 'ActivityStreamEvent', 'PauseStreamRequest',
];
const INTERNAL_NAMES: InternalMessageName[] = ['RaftLog', 'PropagatedRequest', 'PropagatedResponse', 'MetadataSnapshot', 'ReplicationRequest'];

describe('decoders on hostile input (seeded)', () => {
  it('reflection codecs never fail with anything but a CodecError', () => {
    fc.assert(fc.property(fuzzBytes, (bytes) => {
      for (const name of API_NAMES) outcome(() => apiCodec(name).decode(bytes));
      for (const name of INTERNAL_NAMES) outcome(() => decodeInternalMessage(name, bytes));
      outcome(() => decodeHealthCheckRequest(bytes));
    }), { seed: SEED, numRuns: RUNS });
  });

  it('decodePublishMessage never fails with anything but a CodecError, and agrees with protobufjs when both accept', () => {
    let compared = 0;
    fc.assert(fc.property(fuzzBytes, (bytes) => {
      let mine: ReturnType<typeof decodePublishMessage> | undefined;
      if (outcome(() => { mine = decodePublishMessage(bytes, 0, bytes.length); }) !== 'ok' || mine === undefined) return;
      let theirs: ReturnType<typeof decodeMessage> | undefined;
      if (outcome(() => { theirs = decodeMessage(bytes); }) !== 'ok' || theirs === undefined) return;
      expect(mine.key ?? Buffer.alloc(0)).toEqual(theirs.key);
      expect(mine.value ?? Buffer.alloc(0)).toEqual(theirs.value);
      expect(BigInt(mine.expectedOffset)).toBe(theirs.offset);
      expect([mine.ackInbox, mine.correlationId, mine.ackPolicy]).toEqual([theirs.ackInbox, theirs.correlationId, theirs.ackPolicy]);
      expect({ ...(mine.headers ?? {}) }).toEqual({ ...theirs.headers });
      compared++;
    }), { seed: SEED, numRuns: RUNS * 3 });
    expect(compared).toBeGreaterThan(50); // the property did compare something
  });

  it('parseEnvelope never throws, and only magic-less input is "not-an-envelope"', () => {
    const envelopes = fc.oneof(
      fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 24 }))
        .map(([header, rest]) => Buffer.concat([Buffer.from([0xb9, 0x0e, 0x43, 0xb4]), Buffer.from(header), Buffer.from(rest)])),
      fc.tuple(fc.nat(16), fc.integer({ min: 0, max: 255 }), fc.boolean())
        .map(([at, byte, crc]) => { const b = wrapEnvelope(MsgType.Ack, validMessage, { crc }); b[at] = byte; return b; }),
    );
    fc.assert(fc.property(envelopes, fc.integer({ min: 0, max: 14 }), (buf, expected) => {
      const result = parseEnvelope(buf, expected as MsgType);
      const magic = buf.length >= 4 && buf.readUInt32BE(0) === 0xb90e43b4;
      expect(result.kind === 'not-an-envelope').toBe(!magic);
      if (result.kind === 'ok') expect(result.payloadStart).toBeLessThanOrEqual(buf.length);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('the Subscribe encoder rejects random entries with MessageEntryCorruptError only', () => {
    const encoder = new SubscribeMessageEncoder('s', 1);
    const entries = fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.nat(0xffff), fc.nat(8))
      .map(([body, size, start]) => {
        const b = Buffer.concat([Buffer.alloc(28), Buffer.from(body)]);
        b.writeUInt32BE(size % (body.length + 8), 24);
        return { b, start };
      });
    fc.assert(fc.property(entries, ({ b, start }) => {
      outcome(() => encoder.encode(b, start));
      outcome(() => encoder.encodeBatch(b, 3, start));
    }), { seed: SEED, numRuns: RUNS });
  });
});
