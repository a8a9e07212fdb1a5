import * as fc from 'fast-check';
import {
  AckError, AckPolicy, PublishAsyncErrorCode, apiCodec, type Ack, type PublishResponse,
} from '../../../../src/protocol/api-proto';
import { encodeAck } from '../../../../src/protocol/ack-codec';
import { CodecError, ProtobufDecodeError, ProtobufEncodeError } from '../../../../src/protocol/codec-errors';
import {
  decodePublishResponse, encodePublishResponse, type PublishResponseInput,
} from '../../../../src/protocol/publish-response-codec';
import { apiServiceDefinition } from '../../../../src/protocol/api-service-definition';
import { expectNoMoreLenientThanOracle } from './oracle-fuzz';

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

describe('encodePublishResponse', () => {
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

/** What a present but empty ack decodes to. */
const DEFAULT_ACK: Ack = {
  stream: '', partitionSubject: '', msgSubject: '', offset: 0n, ackInbox: '', correlationId: '',
  ackPolicy: AckPolicy.LEADER, receptionTimestamp: 0n, commitTimestamp: 0n, ackError: AckError.OK,
};

describe('decodePublishResponse', () => {
  const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

  it('decodes the oracle\'s bytes to what the oracle decodes (seeded)', () => {
    fc.assert(fc.property(responseArb, (response) => {
      const bytes = oracle().encode(response);
      const mine = decodePublishResponse(bytes);
      // toStrictEqual: an absent sub-message must be an own `undefined`, as the oracle gives it.
      expect(mine).toStrictEqual(oracle().decode(bytes));
      expect(mine).toEqual(response); // toEqual: fast-check may build the input with a null prototype
    }), { seed: SEED, numRuns: RUNS });
  });

  it('leaves an absent ack and asyncError undefined', () => {
    for (const bytes of [Buffer.alloc(0), hex('1a026331')]) {
      const mine = decodePublishResponse(bytes);
      expect(mine.ack).toBeUndefined();
      expect(mine.asyncError).toBeUndefined();
      expect(mine).toStrictEqual(oracle().decode(bytes));
    }
    expect(decodePublishResponse(hex('1a026331')).correlationId).toBe('c1');
  });

  it('fills every default in a present but empty ack or asyncError (an error response\'s empty ack)', () => {
    const bytes = hex('0a00 1200');
    const mine = decodePublishResponse(bytes);
    expect(mine).toStrictEqual({ ack: DEFAULT_ACK, asyncError: { code: 0, message: '' }, correlationId: '' });
    expect(mine).toStrictEqual(oracle().decode(bytes));
  });

  it('keeps int64 extremes and negative int32 enums exactly', () => {
    const response: PublishResponse = {
      ack: { ...fullAck, offset: INT64_MIN, receptionTimestamp: INT64_MAX, commitTimestamp: -1n, ackPolicy: -1 as AckPolicy, ackError: -0x80000000 as AckError },
      asyncError: { code: -5 as PublishAsyncErrorCode, message: 'ünïcødé 🚀' },
      correlationId: '関連',
    };
    const bytes = oracle().encode(response);
    expect(decodePublishResponse(bytes)).toStrictEqual(response);
    expect(decodePublishResponse(bytes)).toStrictEqual(oracle().decode(bytes));
  });

  it('skips unknown fields at every level, and a repeated sub-message replaces the earlier one as in the oracle', () => {
    const unknown = 'a81f01 b31f0801b41f 5901020304050607 08 6501020304'; // 501 varint; group 502; 11 fixed64; 12 fixed32
    const bytes = Buffer.concat([
      hex(unknown),
      oracle().encode({ ack: { stream: 'a', offset: 1n } }),
      hex(`0a0e 3201 63 ${unknown.replace(/ /g, '').slice(0, 6)} 6501020304 c00c07`), // ack { correlationId 'c', unknowns }
      hex('1207 0802 b80101 2a00'), // asyncError { code 2, field 23, field 5 }
      oracle().encode({ correlationId: 'c1' }),
      hex(unknown),
    ]);
    const mine = decodePublishResponse(bytes);
    expect(mine).toStrictEqual({ ack: { ...DEFAULT_ACK, correlationId: 'c' }, asyncError: { code: 2, message: '' }, correlationId: 'c1' });
    expect(mine).toStrictEqual(oracle().decode(bytes));
  });

  it('accepts a plain Uint8Array at an offset', () => {
    const bytes = oracle().encode({ ack: fullAck, correlationId: 'c1' });
    const plain = new Uint8Array(bytes.length + 5).subarray(5);
    plain.set(bytes);
    expect(decodePublishResponse(plain)).toStrictEqual(oracle().decode(bytes));
  });

  it('is the client-side deserializer of Publish and PublishAsync (the hot path skips the reflection codec)', () => {
    expect(apiServiceDefinition['Publish']!.responseDeserialize).toBe(decodePublishResponse);
    expect(apiServiceDefinition['PublishAsync']!.responseDeserialize).toBe(decodePublishResponse);
  });

  describe('malformed input', () => {
    const rejects = (bytes: Buffer, pattern?: RegExp): void => {
      expect(() => decodePublishResponse(bytes)).toThrow(ProtobufDecodeError);
      if (pattern) expect(() => decodePublishResponse(bytes)).toThrow(pattern);
    };

    it('rejects truncated varints and lengths past the end, at both levels', () => {
      rejects(hex('0a'), /truncated varint/);
      rejects(hex('0a05 00'), /past the end/);
      rejects(hex('1a80808080 08'), /past the end/); // a 2^31 length allocates nothing
      rejects(hex('0a02 0a03 616263'), /past the end/); // the ack's string runs past the ack, not past the buffer
      rejects(hex('0a01 20'), /truncated varint/); // the ack's offset runs past the ack
      rejects(hex('1202 08ff'), /truncated varint/);
      rejects(hex('0a0b 20ffffffffffffffffffff01'), /longer than 10 bytes/);
    });

    it('rejects a wrong wire type on fields 1, 2 and 3, and on known fields of the ack and asyncError', () => {
      // The oracle would read a varint as a length here and misread the rest; we refuse instead.
      rejects(hex('0801'), /field 1 has wire type 0, expected 2/); // ack as varint
      rejects(hex('0d00000000'), /field 1 has wire type 5, expected 2/); // ack as fixed32
      rejects(hex('1001'), /field 2 has wire type 0, expected 2/); // asyncError as varint
      rejects(hex('110000000000000000'), /field 2 has wire type 1, expected 2/); // asyncError as fixed64
      rejects(hex('1801'), /field 3 has wire type 0, expected 2/); // correlationId as varint
      rejects(hex('1b1c'), /field 3 has wire type 3, expected 2/); // correlationId as a group
      rejects(hex('0a02 2200'), /field 4 has wire type 2, expected 0/); // ack.offset as bytes
      rejects(hex('0a02 0801'), /field 1 has wire type 0, expected 2/); // ack.stream as varint
      rejects(hex('1202 0a00'), /field 1 has wire type 2, expected 0/); // asyncError.code as bytes
    });

    it('rejects invalid keys, wire types 6/7, and stray or unterminated groups', () => {
      rejects(hex('0001'), /invalid field key/);
      rejects(hex('0a01 00'), /invalid field key/);
      rejects(hex('fe01'));
      rejects(hex('b41f'), /unexpected wire type 4/);
      rejects(hex('b31f0801'), /unterminated group/);
    });

    it('on random and mutated bytes only ever throws ProtobufDecodeError, and agrees with the oracle when it accepts (seeded)', () => {
      const valid = oracle().encode({
        ack: fullAck, asyncError: { code: PublishAsyncErrorCode.NOT_FOUND, message: 'no such stream' }, correlationId: 'c1',
      });
      expectNoMoreLenientThanOracle(decodePublishResponse, (b) => oracle().decode(b), valid, { seed: SEED, numRuns: RUNS, minEach: 30 });
    });

    it('reads a varint padded to up to 10 bytes at its real value (where protobufjs misreads 32-bit ones)', () => {
      // Padding with 0x80 continuation bytes is valid protobuf; Go reads it so. protobufjs reads a
      // 32-bit varint's first 5 bytes and skips 5 more unread, so it decodes these differently or
      // not at all: the oracle is not a reference here, the protobuf encoding rules are.
      expect(decodePublishResponse(hex('1a 828080808000 6162 2000 2000')).correlationId).toBe('ab'); // length 2 in 6 bytes
      expect(decodePublishResponse(hex('0a0d 0a 828080808000 6162 2000 2000')).ack!.stream).toBe('ab'); // the same in the ack
      expect(decodePublishResponse(hex('0a07 38 818080808000')).ack!.ackPolicy).toBe(1); // ackPolicy 1 in 6 bytes
      expect(decodePublishResponse(hex('9a8080808000 00'))).toEqual({ ack: undefined, asyncError: undefined, correlationId: '' }); // key in 6 bytes
    });
  });
});
