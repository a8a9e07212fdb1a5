import * as fc from 'fast-check';
import { decodeAck, decodeAckEnvelope, encodeAck, encodeAckEnvelope } from '../../../../src/protocol/ack-codec';
import { AckError, AckPolicy, apiCodec, apiProtoRoot, type Ack } from '../../../../src/protocol/api-proto';
import { ProtobufDecodeError, ProtobufEncodeError } from '../../../../src/protocol/codec-errors';
import { EnvelopeError, MsgType, wrapEnvelope } from '../../../../src/protocol/envelope';
import { expectNoMoreLenientThanOracle } from './oracle-fuzz';

const NS = 1700000000123456789n;
const NS_VARINT = '959a97ece39fe7cb17';

const fullAck = {
  stream: 'foo', partitionSubject: 'foo', msgSubject: 'foo.1', offset: 5n, ackInbox: 'inbox',
  correlationId: 'c1', ackPolicy: AckPolicy.ALL, receptionTimestamp: NS, commitTimestamp: NS + 1n,
  ackError: AckError.INCORRECT_OFFSET,
};

const AckType = () => apiProtoRoot().lookupType('proto.Ack');

describe('Ack codec', () => {
  it('encodes golden bytes in field order with defaults omitted', () => {
    expect(encodeAck(fullAck).toString('hex')).toBe([
      '0a03666f6f', // 1 stream
      '1203666f6f', // 2 partitionSubject
      '1a05666f6f2e31', // 3 msgSubject
      '2005', // 4 offset
      '2a05696e626f78', // 5 ackInbox
      '32026331', // 6 correlationId
      '3801', // 7 ackPolicy ALL
      `40${NS_VARINT}`, // 8 receptionTimestamp
      '48969a97ece39fe7cb17', // 9 commitTimestamp
      '5002', // 10 ackError INCORRECT_OFFSET
    ].join(''));
    expect(encodeAck({})).toHaveLength(0);
    expect(encodeAck({ offset: 0, ackPolicy: AckPolicy.LEADER, ackError: AckError.OK, stream: '' })).toHaveLength(0);
  });

  it('matches the bytes protobufjs produces for the same ack', () => {
    const oracle = Buffer.from(AckType().encode(AckType().fromObject({
      ...fullAck, offset: '5', receptionTimestamp: NS.toString(), commitTimestamp: (NS + 1n).toString(),
    })).finish());
    expect(encodeAck(fullAck)).toEqual(oracle);
  });

  it('wraps the ack in a MsgType-1 envelope in one buffer', () => {
    const envelope = encodeAckEnvelope(fullAck);
    expect(envelope.subarray(0, 8).toString('hex')).toBe('b90e43b400080001');
    expect(envelope.subarray(8)).toEqual(encodeAck(fullAck));
    expect(decodeAckEnvelope(envelope)).toEqual(fullAck);
  });

  it('accepts numbers or bigints and keeps negative and > 2^53 values', () => {
    expect(decodeAck(encodeAck({ offset: -1 })).offset).toBe(-1n);
    expect(decodeAck(encodeAck({ offset: -1n, commitTimestamp: 2n ** 63n - 1n })).commitTimestamp).toBe(2n ** 63n - 1n);
    expect(decodeAck(encodeAck({ receptionTimestamp: NS })).receptionTimestamp).toBe(NS);
    expect(decodeAck(encodeAck({ ackError: AckError.TOO_LARGE, stream: 'ß' }))).toMatchObject({ ackError: AckError.TOO_LARGE, stream: 'ß' });
  });

  it('refuses values that are not int64/int32', () => {
    expect(() => encodeAck({ offset: 2 ** 53 })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ offset: 2n ** 63n })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ ackPolicy: 0.5 })).toThrow(ProtobufEncodeError);
    expect(() => encodeAck({ stream: 3 as unknown as string })).toThrow(ProtobufEncodeError);
  });

  it('decodeAckEnvelope rejects other envelopes and bad payloads', () => {
    expect(() => decodeAckEnvelope(wrapEnvelope(MsgType.Publish, encodeAck(fullAck)))).toThrow(EnvelopeError);
    expect(() => decodeAckEnvelope(Buffer.from('plain'))).toThrow(EnvelopeError);
    expect(() => decodeAckEnvelope(wrapEnvelope(MsgType.Ack, Buffer.from([0x0a, 0x09, 0x41])))).toThrow(ProtobufDecodeError);
  });
});

describe('decodeAck against the reflection codec', () => {
  /** The reflection codec (protobufjs underneath) is the oracle decodeAck must agree with. */
  const oracle = () => apiCodec('Ack');
  const SEED = 0x9b13;
  const RUNS = 300;
  const INT64_MIN = -(2n ** 63n);
  const INT64_MAX = 2n ** 63n - 1n;
  const INT32_MIN = -0x80000000;
  const INT32_MAX = 0x7fffffff;
  const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
  const DEFAULT_ACK: Ack = {
    stream: '', partitionSubject: '', msgSubject: '', offset: 0n, ackInbox: '', correlationId: '',
    ackPolicy: AckPolicy.LEADER, receptionTimestamp: 0n, commitTimestamp: 0n, ackError: AckError.OK,
  };

  /** Our outcome on `bytes`: the ack, or 'rejected' on a CodecError; any other exception fails the test. */
  // UTF-16 code units include lone surrogates: the oracle writes them as invalid UTF-8, which both
  // decoders must turn into the same replacement characters.
  const codeUnit = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff }))
    .map((c) => String.fromCharCode(c));
  const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 16 }), fc.string({ unit: codeUnit, maxLength: 8 }));
  const int64 = fc.oneof(fc.constantFrom(0n, -1n, NS, INT64_MIN, INT64_MAX, 2n ** 53n + 1n), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }));
  const int32 = fc.oneof(fc.constantFrom(0, -1, INT32_MIN, INT32_MAX), fc.integer({ min: INT32_MIN, max: INT32_MAX }));
  /** Acks with any subset of fields set (absent = proto3 default). */
  const ackArb = fc.record({
    stream: text, partitionSubject: text, msgSubject: text, offset: int64, ackInbox: text, correlationId: text,
    ackPolicy: int32, receptionTimestamp: int64, commitTimestamp: int64, ackError: int32,
  }, { requiredKeys: [] }) as fc.Arbitrary<Partial<Ack>>;

  it('agrees with the oracle on seeded random acks: int64 extremes, negative int32 enums, unicode strings', () => {
    fc.assert(fc.property(ackArb, (ack) => {
      const bytes = oracle().encode(ack);
      const mine = decodeAck(bytes);
      expect(mine).toStrictEqual(oracle().decode(bytes));
      // A lone surrogate does not survive UTF-8 (the oracle writes it as 3 invalid bytes, read back as
      // 3 U+FFFD); every other ack comes back as it was sent, defaults filled in.
      const wellFormed = Object.values(ack).every((v) => typeof v !== 'string' || Buffer.from(v, 'utf8').toString('utf8') === v);
      if (wellFormed) expect(mine).toEqual({ ...DEFAULT_ACK, ...ack });
      expect(decodeAckEnvelope(wrapEnvelope(MsgType.Ack, bytes))).toStrictEqual(mine); // the envelope path reads the same
    }), { seed: SEED, numRuns: RUNS });
  });

  it('keeps int64 extremes and negative int32 enums exactly', () => {
    const ack: Ack = {
      ...fullAck, stream: 'ストリーム', offset: INT64_MIN, receptionTimestamp: INT64_MAX, commitTimestamp: -1n,
      ackPolicy: -1 as AckPolicy, ackError: INT32_MIN as AckError,
    };
    const bytes = oracle().encode(ack);
    expect(decodeAck(bytes)).toStrictEqual(ack);
    expect(decodeAck(bytes)).toStrictEqual(oracle().decode(bytes));
  });

  it('fills every default for empty bytes and replaces invalid UTF-8 as the oracle does', () => {
    expect(decodeAck(Buffer.alloc(0))).toStrictEqual(DEFAULT_ACK);
    expect(decodeAck(Buffer.alloc(0))).toStrictEqual(oracle().decode(Buffer.alloc(0)));
    const bytes = hex('0a02 fffe 1203 eda080 1a02 c328'); // stray bytes, an encoded surrogate, a cut 2-byte sequence
    const mine = decodeAck(bytes);
    expect(mine).toStrictEqual(oracle().decode(bytes));
    expect(mine.stream).toBe('\uFFFD\uFFFD');
  });

  it('skips unknown fields and groups, and keeps the last of a repeated field', () => {
    const bytes = Buffer.concat([
      oracle().encode({ stream: 'a', offset: 5n }),
      hex('a81f01 b31f0801b41f 5901020304050607 08 6501020304'), // 501 varint; group 502; 11 fixed64; 12 fixed32
      oracle().encode({ stream: 'b', ackError: AckError.TOO_LARGE }),
    ]);
    const mine = decodeAck(bytes);
    expect(mine).toStrictEqual({ ...DEFAULT_ACK, stream: 'b', offset: 5n, ackError: AckError.TOO_LARGE });
    expect(mine).toStrictEqual(oracle().decode(bytes));
  });

  describe('malformed input', () => {
    const rejects = (bytes: Buffer, pattern?: RegExp): void => {
      expect(() => decodeAck(bytes)).toThrow(ProtobufDecodeError);
      if (pattern) expect(() => decodeAck(bytes)).toThrow(pattern);
    };

    it('rejects truncated varints, lengths past the end and overlong varints', () => {
      rejects(hex('20'), /truncated varint/);
      rejects(hex('40 959a97ece39fe7'), /truncated varint/); // receptionTimestamp cut short
      rejects(hex('0a05 61'), /past the end/);
      rejects(hex('2a80808080 08'), /past the end/); // a 2^31 length allocates nothing
      rejects(hex('20 ffffffffffffffffffff01'), /longer than 10 bytes/);
      rejects(hex('59 01020304'), /truncated fixed-width field/); // unknown field 11, fixed64 cut short
    });

    it('rejects a wrong wire type on every known field', () => {
      // The oracle would misread these (a varint read as a length, or the reverse); we refuse instead.
      rejects(hex('0801'), /field 1 has wire type 0, expected 2/); // stream
      rejects(hex('1001'), /field 2 has wire type 0, expected 2/); // partitionSubject
      rejects(hex('1801'), /field 3 has wire type 0, expected 2/); // msgSubject
      rejects(hex('2200'), /field 4 has wire type 2, expected 0/); // offset
      rejects(hex('2d00000000'), /field 5 has wire type 5, expected 2/); // ackInbox
      rejects(hex('3001'), /field 6 has wire type 0, expected 2/); // correlationId
      rejects(hex('3a00'), /field 7 has wire type 2, expected 0/); // ackPolicy
      rejects(hex('410000000000000000'), /field 8 has wire type 1, expected 0/); // receptionTimestamp
      rejects(hex('4d00000000'), /field 9 has wire type 5, expected 0/); // commitTimestamp
      rejects(hex('5200'), /field 10 has wire type 2, expected 0/); // ackError
    });

    it('rejects invalid keys, wire types 6/7, and stray or unterminated groups', () => {
      rejects(hex('0001'), /invalid field key/);
      rejects(hex('fe01'));
      rejects(hex('b41f'), /unexpected wire type 4/);
      rejects(hex('b31f0801'), /unterminated group/);
    });

    it('on random and mutated bytes only ever throws ProtobufDecodeError, and agrees with the oracle when it accepts (seeded)', () => {
      expectNoMoreLenientThanOracle(decodeAck, (b) => oracle().decode(b), oracle().encode(fullAck), { seed: SEED, numRuns: RUNS, minEach: 30 });
    });

    it('reads a varint padded to up to 10 bytes at its real value (where protobufjs misreads 32-bit ones)', () => {
      // Padding with 0x80 continuation bytes is valid protobuf; Go reads it so. protobufjs reads a
      // 32-bit varint's first 5 bytes and skips 5 more unread: the oracle is not a reference here.
      expect(decodeAck(hex('0a 828080808000 6162 2000 2000')).stream).toBe('ab'); // length 2 in 6 bytes
      expect(decodeAck(hex('38 818080808000')).ackPolicy).toBe(1); // ackPolicy 1 in 6 bytes
      expect(decodeAck(hex('38 818080808000 2000 2000 2000')).ackPolicy).toBe(1);
      expect(decodeAck(hex('8a8080808000 00')).stream).toBe(''); // key in 6 bytes, empty value
    });
  });
});
