import * as fc from 'fast-check';
import {
  AckError, AckPolicy, PublishAsyncErrorCode, apiCodec, type Ack, type PublishResponse,
} from '../../../../src/adapters/codec/api-proto';
import { encodeAck } from '../../../../src/adapters/codec/ack-codec';
import { CodecError, ProtobufEncodeError } from '../../../../src/adapters/codec/codec-errors';
import { encodePublishResponse, type PublishResponseInput } from '../../../../src/adapters/codec/publish-response-codec';
import { apiServiceDefinition } from '../../../../src/adapters/inbound/grpc/api-service-definition';

/** The reflection codec (protobufjs underneath) is the oracle: it encodes the inputs and decodes our output. */
const oracle = () => apiCodec('PublishResponse');

const SEED = 0x9b12;
const RUNS = 300;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NS = 1700000000123456789n;

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.oneof(fc.constantFrom(0n, -1n, NS, INT64_MIN, INT64_MAX), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }));
const text = fc.string({ unit: 'grapheme', maxLength: 20 });

/** A complete `Ack` as api-types declares it (what the service hands to the encoder). */
const ackArb: fc.Arbitrary<Ack> = fc.record({
  stream: text, partitionSubject: text, msgSubject: text, offset: int64, ackInbox: text, correlationId: text,
  ackPolicy: fc.oneof(fc.constantFrom(AckPolicy.LEADER, AckPolicy.ALL, AckPolicy.NONE), int32),
  receptionTimestamp: int64, commitTimestamp: int64,
  ackError: fc.oneof(fc.constantFrom(AckError.OK, AckError.INCORRECT_OFFSET, AckError.TOO_LARGE), int32),
});

const responseArb: fc.Arbitrary<PublishResponse> = fc.record({
  ack: fc.option(ackArb, { nil: undefined }),
  asyncError: fc.option(fc.record({ code: fc.oneof(fc.constantFrom(0, 1, 2, 5, 7), int32), message: text }), { nil: undefined }),
  correlationId: text,
});

const fullAck: Ack = {
  stream: 'foo', partitionSubject: 'foo', msgSubject: 'foo.1', offset: 5n, ackInbox: 'inbox', correlationId: 'c1',
  ackPolicy: AckPolicy.ALL, receptionTimestamp: NS, commitTimestamp: NS + 1n, ackError: AckError.OK,
};

describe('encodePublishResponse (spec §1.4 PublishResponse, §2.9)', () => {
  it('writes golden bytes for an error response with an empty non-nil ack', () => {
    const bytes = encodePublishResponse({
      ack: {}, asyncError: { code: PublishAsyncErrorCode.NOT_FOUND, message: 'no such stream: s' }, correlationId: 'c1',
    });
    expect(bytes.toString('hex')).toBe([
      '0a00', // 1 ack, present and empty
      '1215', '0802', '1211', Buffer.from('no such stream: s').toString('hex'), // 2 asyncError { code 2, message }
      '1a026331', // 3 correlationId 'c1'
    ].join(''));
    const decoded = oracle().decode(bytes);
    expect(decoded.ack).toBeDefined();
    expect(decoded.asyncError).toEqual({ code: PublishAsyncErrorCode.NOT_FOUND, message: 'no such stream: s' });
  });

  it('writes the ack in place, byte for byte what encodeAck writes', () => {
    const ackBytes = encodeAck(fullAck);
    const bytes = encodePublishResponse({ ack: fullAck, correlationId: 'c1' });
    expect(bytes.toString('hex')).toBe(`0a${ackBytes.length.toString(16).padStart(2, '0')}${ackBytes.toString('hex')}1a026331`);
  });

  it('omits absent sub-messages and proto3 defaults, but writes present empty ones', () => {
    expect(encodePublishResponse({})).toHaveLength(0);
    expect(encodePublishResponse({ ack: undefined, asyncError: null, correlationId: '' })).toHaveLength(0);
    expect(encodePublishResponse({ ack: {} }).toString('hex')).toBe('0a00');
    expect(encodePublishResponse({ ack: { offset: 0n, ackPolicy: AckPolicy.LEADER, stream: '' } }).toString('hex')).toBe('0a00');
    expect(encodePublishResponse({ asyncError: { code: 0, message: '' } }).toString('hex')).toBe('1200');
    expect(oracle().decode(encodePublishResponse({}))).toEqual({ ack: undefined, asyncError: undefined, correlationId: '' });
  });

  it('produces the oracle\'s bytes, which the oracle decodes back to the input (seeded)', () => {
    fc.assert(fc.property(responseArb, (response) => {
      const mine = encodePublishResponse(response);
      expect(mine).toEqual(oracle().encode(response));
      expect(oracle().decode(mine)).toEqual(response);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('accepts numbers for 64-bit fields and long values (multi-byte length prefixes)', () => {
    const input: PublishResponseInput = {
      ack: { offset: -1, receptionTimestamp: 2 ** 40, stream: 's'.repeat(300) },
      asyncError: { code: -1, message: 'm'.repeat(20000) },
      correlationId: 'ü'.repeat(100),
    };
    const decoded = oracle().decode(encodePublishResponse(input));
    expect(decoded.ack).toMatchObject({ offset: -1n, receptionTimestamp: 2n ** 40n, stream: 's'.repeat(300) });
    expect(decoded.asyncError).toEqual({ code: -1, message: 'm'.repeat(20000) });
    expect(decoded.correlationId).toBe('ü'.repeat(100));
    expect(encodePublishResponse(input)).toEqual(oracle().encode(input as never));
  });

  it('refuses values it cannot encode with ProtobufEncodeError', () => {
    const refuses = (input: unknown): void => {
      expect(() => encodePublishResponse(input as PublishResponseInput)).toThrow(ProtobufEncodeError);
    };
    refuses(null);
    refuses({ correlationId: 7 });
    refuses({ ack: 'ack' });
    refuses({ ack: { offset: 2 ** 53 } });
    refuses({ ack: { commitTimestamp: 2n ** 63n } });
    refuses({ ack: { ackPolicy: 0.5 } });
    refuses({ asyncError: 'oops' });
    refuses({ asyncError: { code: 2 ** 31 } });
    refuses({ asyncError: { code: 1.5 } });
    refuses({ asyncError: { message: 3 } });
  });

  it('on arbitrary values either encodes what the oracle can decode or throws ProtobufEncodeError (seeded)', () => {
    const loose = fc.record({
      ack: fc.option(fc.oneof(fc.anything(), fc.record({ offset: fc.anything(), stream: fc.anything(), ackError: fc.anything() }, { requiredKeys: [] }))),
      asyncError: fc.option(fc.oneof(fc.anything(), fc.record({ code: fc.anything(), message: fc.anything() }, { requiredKeys: [] }))),
      correlationId: fc.option(fc.anything()),
    }, { requiredKeys: [] });
    let encoded = 0;
    fc.assert(fc.property(loose, (input) => {
      let bytes: Buffer;
      try {
        bytes = encodePublishResponse(input as PublishResponseInput);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtobufEncodeError);
        return;
      }
      expect(() => oracle().decode(bytes)).not.toThrow(CodecError);
      encoded++;
    }), { seed: SEED, numRuns: RUNS });
    expect(encoded).toBeGreaterThan(10);
  });

  it('is the server-side serializer of Publish and PublishAsync (the hot path skips the reflection codec)', () => {
    expect(apiServiceDefinition['Publish']!.responseSerialize).toBe(encodePublishResponse);
    expect(apiServiceDefinition['PublishAsync']!.responseSerialize).toBe(encodePublishResponse);
  });
});
