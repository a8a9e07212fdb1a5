import * as fc from 'fast-check';
import { AckPolicy, apiCodec, type PublishRequest } from '../../../../src/adapters/codec/api-proto';
import { CodecError, ProtobufDecodeError } from '../../../../src/adapters/codec/codec-errors';
import { decodePublishRequest } from '../../../../src/adapters/codec/publish-request-codec';
import { apiServiceDefinition } from '../../../../src/adapters/inbound/grpc/api-service-definition';

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

/** Our outcome on `bytes`: the decoded request, or 'rejected'; any other exception fails the test. */
function decodeOrReject(decode: (bytes: Buffer) => PublishRequest, bytes: Buffer): PublishRequest | 'rejected' {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof CodecError) return 'rejected';
    throw error;
  }
}

describe('decodePublishRequest (spec §1.4 PublishRequest)', () => {
  it('decodes golden bytes of a small request', () => {
    const bytes = Buffer.from([
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
    const request = decodePublishRequest(bytes);
    expect(request).toEqual({
      key: Buffer.from('k'), value: Buffer.from('hi'), stream: 'foo', partition: 1, headers: { a: Buffer.from('x') },
      ackInbox: 'in', correlationId: 'c1', ackPolicy: AckPolicy.ALL, expectedOffset: -1n,
    });
    expect(oracle().encode(request)).toEqual(bytes); // the golden bytes are what protobufjs writes
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
    /** Random bytes, or the valid request with a few bytes overwritten and possibly truncated. */
    const fuzzBytes = fc.oneof(
      fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(valid.length))
        .map(([edits, cut]) => {
          const b = Buffer.from(valid);
          for (const [at, byte] of edits) b[at] = byte;
          return b.subarray(0, cut);
        }),
    );

    it('on random and mutated bytes only ever throws ProtobufDecodeError, and agrees with the oracle when it accepts (seeded)', () => {
      let compared = 0;
      let rejected = 0;
      fc.assert(fc.property(fuzzBytes, (bytes) => {
        const mine = decodeOrReject(decodePublishRequest, bytes);
        const theirs = decodeOrReject((b) => oracle().decode(b), bytes);
        if (mine === 'rejected') {
          expect(() => decodePublishRequest(bytes)).toThrow(ProtobufDecodeError);
          rejected++;
          return;
        }
        // We are at most as lenient as the oracle: anything we accept it accepts, with the same meaning.
        expect(theirs).toEqual(mine);
        compared++;
      }), { seed: SEED, numRuns: RUNS * 3 });
      expect(compared).toBeGreaterThan(50);
      expect(rejected).toBeGreaterThan(50);
    });
  });
});
