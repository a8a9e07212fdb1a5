import * as fc from 'fast-check';
import { AckPolicy, apiCodec, type PublishRequest } from '../../../../src/protocol/api-proto';
import { ProtobufDecodeError, ProtobufEncodeError } from '../../../../src/protocol/codec-errors';
import { decodePublishRequest, encodePublishRequest } from '../../../../src/protocol/publish-request-codec';
import type { ProtoInit } from '../../../../src/protocol/proto-schema';
import { apiServiceDefinition } from '../../../../src/protocol/api-service-definition';
import { expectNoMoreLenientThanOracle } from './oracle-fuzz';

/** The reflection codec (protobufjs underneath) is the oracle: it encodes inputs and decodes them too. */
const oracle = () => apiCodec('PublishRequest');

const SEED = 0x9b11;
const RUNS = 300;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A header name other than `__proto__`, which the oracle's decoder cannot represent (tested apart). */
const headerName = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((name) => name !== '__proto__');

const headersArb = fc.array(fc.tuple(headerName, fc.uint8Array({ maxLength: 16 })), { maxLength: 4 }).map((entries) => {
  const headers = Object.create(null) as Record<string, Buffer>;
  for (const [name, value] of entries) headers[name] = Buffer.from(value);
  return headers;
});

const requestArb = fc.record({
  key: fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
  value: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  stream: fc.string({ unit: 'grapheme', maxLength: 16 }),
  partition: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  headers: headersArb,
  ackInbox: fc.string({ maxLength: 24 }),
  correlationId: fc.string({ maxLength: 24 }),
  ackPolicy: fc.oneof(fc.constantFrom(AckPolicy.LEADER, AckPolicy.ALL, AckPolicy.NONE), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
  expectedOffset: fc.oneof(fc.constantFrom(-1n, 0n, 1n, INT64_MIN, INT64_MAX), fc.bigInt({ min: INT64_MIN, max: INT64_MAX })),
}) as fc.Arbitrary<PublishRequest>;

/** A small request with every field set, as protobufjs (and Go) write it. */
const GOLDEN_BYTES = Buffer.from([
  '0a016b', // 1 key 'k'
  '12026869', // 2 value 'hi'
  '1a03666f6f', // 3 stream 'foo'
  '2001', // 4 partition 1
  '2a060a01611201 78'.replace(/ /g, ''), // 5 headers { a: 'x' }
  '3202696e', // 6 ackInbox 'in'
  '3a026331', // 7 correlationId 'c1'
  '4001', // 8 ackPolicy ALL
  '48ffffffffffffffffff01', // 9 expectedOffset -1
].join(''), 'hex');
const GOLDEN_REQUEST: PublishRequest = {
  key: Buffer.from('k'), value: Buffer.from('hi'), stream: 'foo', partition: 1, headers: { a: Buffer.from('x') },
  ackInbox: 'in', correlationId: 'c1', ackPolicy: AckPolicy.ALL, expectedOffset: -1n,
};

describe('decodePublishRequest', () => {
  it('decodes golden bytes of a small request', () => {
    const request = decodePublishRequest(GOLDEN_BYTES);
    expect(request).toEqual(GOLDEN_REQUEST);
    expect(oracle().encode(request)).toEqual(GOLDEN_BYTES); // the golden bytes are what protobufjs writes
  });

  it('agrees with the oracle on every request the oracle encodes (seeded)', () => {
    fc.assert(fc.property(requestArb, (request) => {
      const bytes = oracle().encode(request);
      const mine = decodePublishRequest(bytes);
      expect(mine).toEqual(oracle().decode(bytes));
      expect(mine).toEqual(request);
      expect(Object.keys(mine.headers).sort()).toEqual(Object.keys(request.headers).sort());
    }), { seed: SEED, numRuns: RUNS });
  });

  it('fills proto3 defaults for absent fields, as the oracle does', () => {
    const empty = decodePublishRequest(Buffer.alloc(0));
    expect(empty).toEqual(oracle().decode(Buffer.alloc(0)));
    expect(empty).toEqual({
      key: Buffer.alloc(0), value: Buffer.alloc(0), stream: '', partition: 0, headers: {}, ackInbox: '',
      correlationId: '', ackPolicy: 0, expectedOffset: 0n,
    });
    expect(Buffer.isBuffer(empty.key) && Buffer.isBuffer(empty.value)).toBe(true);
    expect(Object.getPrototypeOf(empty.headers)).toBeNull();
  });

  it('keeps 64-bit offsets exactly, negative int32s and out-of-range enums', () => {
    for (const expectedOffset of [-1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, INT64_MIN, INT64_MAX, 4294967296n]) {
      expect(decodePublishRequest(oracle().encode({ expectedOffset })).expectedOffset).toBe(expectedOffset);
    }
    const request = decodePublishRequest(oracle().encode({ partition: -7, ackPolicy: 99 as AckPolicy }));
    expect([request.partition, request.ackPolicy]).toEqual([-7, 99]);
  });

  it('keeps a "__proto__" header as an ordinary entry, the last of duplicates, and defaults a missing value', () => {
    const entry = (name: string, value?: string): Buffer => {
      const body = [0x0a, name.length, ...Buffer.from(name)];
      if (value !== undefined) body.push(0x12, value.length, ...Buffer.from(value));
      return Buffer.from([0x2a, body.length, ...body]);
    };
    const request = decodePublishRequest(Buffer.concat([entry('a', 'x'), entry('__proto__', 'p'), entry('a', 'y'), entry('n')]));
    expect(Object.keys(request.headers)).toEqual(['a', '__proto__', 'n']);
    expect(request.headers['a']).toEqual(Buffer.from('y'));
    expect(request.headers['__proto__']).toEqual(Buffer.from('p'));
    expect(request.headers['n']).toEqual(Buffer.alloc(0));
    expect(Object.getPrototypeOf(request.headers)).toBeNull();
    const viaOracle = decodePublishRequest(oracle().encode({ headers: { ['__proto__']: Buffer.from('q') } as Record<string, Buffer> }));
    expect(Object.keys(viaOracle.headers)).toEqual(['__proto__']);
  });

  it('skips unknown fields and groups, and keeps the last of a repeated scalar', () => {
    const unknown = [0xa8, 0x1f, 0x01, 0xb3, 0x1f, 0x08, 0x01, 0xb4, 0x1f, 0x59, 1, 2, 3, 4, 5, 6, 7, 8]; // 501 varint; group 502; 11 fixed64
    const bytes = Buffer.concat([oracle().encode({ stream: 'a' }), Buffer.from(unknown), oracle().encode({ stream: 'b', partition: 2 })]);
    expect(decodePublishRequest(bytes)).toMatchObject({ stream: 'b', partition: 2 });
    expect(decodePublishRequest(bytes)).toEqual(oracle().decode(bytes));
  });

  it('returns views into the input instead of copies, and accepts a plain Uint8Array', () => {
    const bytes = oracle().encode({ key: Buffer.from('key'), value: Buffer.from('payload'), headers: { h: Buffer.from('v') } });
    const request = decodePublishRequest(bytes);
    expect(request.value.buffer).toBe(bytes.buffer);
    expect(request.key.buffer).toBe(bytes.buffer);
    expect(request.headers['h']!.buffer).toBe(bytes.buffer);
    const plain = new Uint8Array(bytes.length + 3).subarray(3);
    plain.set(bytes);
    expect(decodePublishRequest(plain)).toEqual(request);
  });

  it('is the server-side deserializer of Publish and PublishAsync (the hot path skips the reflection codec)', () => {
    expect(apiServiceDefinition['Publish']!.requestDeserialize).toBe(decodePublishRequest);
    expect(apiServiceDefinition['PublishAsync']!.requestDeserialize).toBe(decodePublishRequest);
  });

  describe('malformed input', () => {
    const rejects = (bytes: number[] | Buffer, pattern?: RegExp): void => {
      const buf = Buffer.from(bytes);
      expect(() => decodePublishRequest(buf)).toThrow(ProtobufDecodeError);
      if (pattern) expect(() => decodePublishRequest(buf)).toThrow(pattern);
    };

    it('rejects truncated varints and lengths past the end', () => {
      rejects([0x20], /truncated varint/);
      rejects([0x48, 0xff, 0xff], /truncated varint/);
      rejects([0x0a, 0x05, 0x61], /past the end/);
      rejects([0x1a]);
      rejects([0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 10 bytes/);
    });

    it('rejects a 2^31 or 2^35 length prefix without allocating', () => {
      rejects([0x12, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00], /past the end/);
      rejects([0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], /past the end/);
    });

    it('rejects a wrong wire type on every known field', () => {
      rejects([0x08, 0x01], /field 1 has wire type 0, expected 2/); // key as varint
      rejects([0x10, 0x01], /expected 2/); // value
      rejects([0x18, 0x01], /expected 2/); // stream
      rejects([0x22, 0x00], /field 4 has wire type 2, expected 0/); // partition as bytes
      rejects([0x2d, 0, 0, 0, 0], /expected 2/); // headers as fixed32
      rejects([0x30, 0x01], /expected 2/); // ackInbox
      rejects([0x38, 0x01], /expected 2/); // correlationId
      rejects([0x41, 0, 0, 0, 0, 0, 0, 0, 0], /expected 0/); // ackPolicy as fixed64
      rejects([0x4a, 0x00], /expected 0/); // expectedOffset as bytes
    });

    it('rejects invalid keys, wire types 6/7, stray or unterminated groups, and deep nesting', () => {
      rejects([0x00, 0x01], /invalid field key/);
      rejects([0xfe, 0x01]);
      rejects([0xb4, 0x1f], /unexpected wire type 4/);
      rejects([0xb3, 0x1f, 0x08, 0x01], /unterminated group/);
      rejects(Buffer.from(Array.from({ length: 40 }, () => [0xb3, 0x1f]).flat()), /nested too deeply/);
    });

    it('rejects malformed header entries', () => {
      rejects([0x2a, 0x02, 0x0a, 0x05], /past the end/);
      rejects([0x2a, 0x02, 0x10, 0x01], /expected 2/);
      rejects([0x2a, 0x01, 0x0a], /truncated varint/);
    });

    const valid = oracle().encode({
      key: Buffer.from('key'), value: Buffer.from('value'), stream: 'stream', partition: 2,
      headers: { a: Buffer.from('1'), bb: Buffer.from('22') }, ackInbox: 'inbox', correlationId: 'cid',
      ackPolicy: AckPolicy.ALL, expectedOffset: -1n,
    });
    it('on random and mutated bytes only ever throws ProtobufDecodeError, and agrees with the oracle when it accepts (seeded)', () => {
      expectNoMoreLenientThanOracle(decodePublishRequest, (b) => oracle().decode(b), valid, { seed: SEED, numRuns: RUNS * 3, minEach: 50 });
    });
  });
});

describe('encodePublishRequest', () => {
  const INT32_MIN = -0x80000000;
  const INT32_MAX = 0x7fffffff;
  const encode = (request: unknown): Buffer => encodePublishRequest(request as ProtoInit<PublishRequest>);
  const oracleEncode = (request: unknown): Buffer => oracle().encode(request as ProtoInit<PublishRequest>);

  it('writes the golden bytes for the golden request', () => {
    expect(encodePublishRequest(GOLDEN_REQUEST)).toEqual(GOLDEN_BYTES);
    // Encoding what we decode gives the bytes back: the two directions are inverses on canonical bytes.
    expect(encodePublishRequest(decodePublishRequest(GOLDEN_BYTES))).toEqual(GOLDEN_BYTES);
  });

  it('produces the oracle\'s bytes, which decodePublishRequest reads back to the input (seeded)', () => {
    fc.assert(fc.property(requestArb, (request) => {
      const mine = encodePublishRequest(request);
      expect(mine).toEqual(oracle().encode(request));
      expect(decodePublishRequest(mine)).toEqual(request);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('omits absent, null and proto3-default fields: an empty request is zero bytes', () => {
    expect(encodePublishRequest({})).toHaveLength(0);
    const defaults = {
      key: Buffer.alloc(0), value: new Uint8Array(0), stream: '', partition: 0, headers: {}, ackInbox: '',
      correlationId: '', ackPolicy: AckPolicy.LEADER, expectedOffset: 0n,
    };
    expect(encodePublishRequest(defaults)).toHaveLength(0);
    expect(encodePublishRequest({ ...defaults, partition: -0, expectedOffset: 0 })).toHaveLength(0);
    const nulls = Object.fromEntries(Object.keys(defaults).map((name) => [name, null]));
    expect(encode(nulls)).toHaveLength(0);
    expect(oracleEncode(nulls)).toHaveLength(0); // the oracle skips nulls too
    expect(encodePublishRequest({ stream: 'foo', key: undefined, partition: 0 }).toString('hex')).toBe('1a03666f6f');
  });

  it('writes every header with both its name and its value, even when empty', () => {
    // protobufjs (and Go) write map entries in full; a reader that skipped empty ones would still agree,
    // but the bytes would not be the oracle's.
    const request = { headers: { a: Buffer.alloc(0), '': Buffer.from('x') } };
    expect(encodePublishRequest(request).toString('hex')).toBe('2a050a01611200' + '2a050a00120178');
    expect(encodePublishRequest(request)).toEqual(oracle().encode(request));
    const proto = { headers: { ['__proto__']: Buffer.from('q') } as Record<string, Buffer> };
    expect(encodePublishRequest(proto)).toEqual(oracle().encode(proto));
    expect(Object.keys(decodePublishRequest(encodePublishRequest(proto)).headers)).toEqual(['__proto__']);
  });

  it('writes negative int32s sign-extended to ten bytes and int64 extremes exactly', () => {
    const cases: [ProtoInit<PublishRequest>, string][] = [
      [{ partition: -1 }, '20ffffffffffffffffff01'],
      [{ partition: INT32_MIN }, '2080808080f8ffffffff01'],
      [{ partition: INT32_MAX }, '20ffffffff07'],
      [{ ackPolicy: -7 as AckPolicy }, '40f9ffffffffffffffff01'],
      [{ expectedOffset: -1n }, '48ffffffffffffffffff01'],
      [{ expectedOffset: -1 }, '48ffffffffffffffffff01'], // a safe-integer number is accepted for int64
      [{ expectedOffset: INT64_MIN }, '4880808080808080808001'],
      [{ expectedOffset: INT64_MAX }, '48ffffffffffffffff7f'],
      [{ expectedOffset: Number.MAX_SAFE_INTEGER }, '48ffffffffffffff0f'],
      [{ expectedOffset: -Number.MAX_SAFE_INTEGER }, '4881808080808080f0ff01'],
      [{ expectedOffset: 2n ** 32n }, '488080808010'],
    ];
    for (const [request, hex] of cases) {
      const mine = encodePublishRequest(request);
      expect([request, mine.toString('hex')]).toEqual([request, hex]); // the request names the failing case
      expect(mine).toEqual(oracle().encode(request));
    }
    expect(decodePublishRequest(encodePublishRequest({ expectedOffset: INT64_MIN })).expectedOffset).toBe(INT64_MIN);
    expect(decodePublishRequest(encodePublishRequest({ partition: INT32_MIN })).partition).toBe(INT32_MIN);
  });

  it('refuses, with ProtobufEncodeError, every value the oracle refuses', () => {
    const refused: unknown[] = [
      null, undefined, 'request', 42, [], Buffer.from('k'),
      { key: 'k' }, { value: [1, 2] }, { key: 1 },
      { stream: 5 }, { ackInbox: Buffer.from('in') }, { correlationId: 1n },
      { partition: 1.5 }, { partition: INT32_MAX + 1 }, { partition: INT32_MIN - 1 }, { partition: '1' },
      { partition: NaN }, { partition: 1n }, { ackPolicy: Infinity }, { ackPolicy: true },
      { expectedOffset: 2 ** 53 }, { expectedOffset: 1.5 }, { expectedOffset: INT64_MAX + 1n },
      { expectedOffset: INT64_MIN - 1n }, { expectedOffset: '5' }, { expectedOffset: NaN },
      { headers: 'h' }, { headers: [] }, { headers: 7 }, { headers: { a: 'x' } }, { headers: { a: null } },
      { headers: { a: [1] } }, { headers: { a: Buffer.from('x'), b: 2 } },
    ];
    for (const request of refused) {
      expect(() => oracleEncode(request)).toThrow(ProtobufEncodeError); // the case is a real refusal
      expect(() => encode(request)).toThrow(ProtobufEncodeError);
    }
  });

  it('refuses with ProtobufEncodeError, not TypeError, a number field holding an object String() cannot print', () => {
    // A null-prototype object (what decoded maps are) has no toString: an error message built with
    // String(value) throws TypeError instead of reporting the bad field. The oracle refuses these too.
    const refused: unknown[] = [
      { partition: Object.create(null) }, { ackPolicy: Object.create(null) }, { expectedOffset: Object.create(null) },
    ];
    for (const request of refused) {
      expect(() => oracleEncode(request)).toThrow();
      expect(() => encode(request)).toThrow(ProtobufEncodeError);
    }
  });

  it('on arbitrary values throws ProtobufEncodeError exactly when the oracle throws, and otherwise writes its bytes (seeded)', () => {
    // Well-formed strings only: a lone surrogate is where the oracle is not a reference (next test).
    const anyString = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }));
    const loose = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
      fc.oneof({ weight: 12, arbitrary: arb }, { weight: 2, arbitrary: fc.constantFrom(undefined, null) }, { weight: 1, arbitrary: fc.anything() });
    const bytes = fc.uint8Array({ maxLength: 8 }).map((a) => (a.length % 2 === 0 ? Buffer.from(a) : a));
    const int32ish = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: INT32_MIN, max: INT32_MAX }) },
      { weight: 1, arbitrary: fc.constantFrom(0, -0, INT32_MIN - 1, INT32_MAX + 1, 0.5, NaN, Infinity, 2 ** 53) },
      { weight: 1, arbitrary: fc.double() },
    );
    const int64ish = fc.oneof(
      { weight: 3, arbitrary: fc.bigInt({ min: INT64_MIN - 2n, max: INT64_MAX + 2n }) },
      { weight: 3, arbitrary: fc.integer() },
      { weight: 1, arbitrary: fc.constantFrom(INT64_MIN, INT64_MAX, INT64_MIN - 1n, INT64_MAX + 1n, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, -0, 1.5) },
      { weight: 1, arbitrary: fc.double() },
    );
    const headers = fc.oneof(
      fc.dictionary(anyString, fc.oneof({ weight: 4, arbitrary: bytes }, { weight: 1, arbitrary: fc.anything() }), { maxKeys: 3 }),
      fc.anything(),
    );
    const request = fc.record({
      key: loose(bytes), value: loose(bytes), stream: loose(anyString), partition: loose(int32ish), headers: loose(headers),
      ackInbox: loose(anyString), correlationId: loose(anyString), ackPolicy: loose(int32ish), expectedOffset: loose(int64ish),
    }, { requiredKeys: [] });
    const input = fc.oneof({ weight: 9, arbitrary: request }, { weight: 1, arbitrary: fc.anything() });

    /** Hex of the bytes, or 'refused'; ours must refuse with ProtobufEncodeError and nothing else. */
    const outcome = (encoder: (value: unknown) => Buffer, value: unknown, errorType: abstract new (...args: never[]) => Error): string => {
      try {
        return encoder(value).toString('hex');
      } catch (error) {
        expect(error).toBeInstanceOf(errorType);
        return 'refused';
      }
    };
    let encoded = 0;
    let refused = 0;
    fc.assert(fc.property(input, (value) => {
      const theirs = outcome(oracleEncode, value, Error);
      const mine = outcome(encode, value, ProtobufEncodeError);
      expect(mine).toBe(theirs);
      if (mine === 'refused') refused++;
      else encoded++;
    }), { seed: SEED, numRuns: RUNS });
    // Both branches are exercised, so neither direction of "exactly when" is vacuous.
    expect(encoded).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(50);
  });

  it('writes a lone surrogate as U+FFFD (well-formed UTF-8, as Node and Go write it), where protobufjs writes ED A0 80', () => {
    // JS strings may hold lone surrogates (a sliced pair, String.fromCharCode). protobufjs's own
    // UTF-8 writer, used for strings under 40 code units, emits the surrogate's bytes, which no
    // decoder accepts as UTF-8; our encoders (and encodeAck, encodePublishResponse) replace it.
    expect(encodePublishRequest({ correlationId: '\ud800' }).toString('hex')).toBe('3a03efbfbd');
    expect(oracleEncode({ correlationId: '\ud800' }).toString('hex')).toBe('3a03eda080');
    expect(encodePublishRequest({ stream: 'a\udc00b' })).toEqual(encodePublishRequest({ stream: 'a\ufffdb' }));
    expect(encodePublishRequest({ headers: { '\ud800': Buffer.from('v') } })).toEqual(encodePublishRequest({ headers: { '\ufffd': Buffer.from('v') } }));
  });

  it('is the client-side serializer of Publish and PublishAsync (the hot path skips the reflection codec)', () => {
    expect(apiServiceDefinition['Publish']!.requestSerialize).toBe(encodePublishRequest);
    expect(apiServiceDefinition['PublishAsync']!.requestSerialize).toBe(encodePublishRequest);
  });
});
