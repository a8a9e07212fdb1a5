import * as fc from 'fast-check';
import * as protobuf from 'protobufjs';
import {
  WireReader,
  hiWord,
  int32Size,
  loWord,
  varint64Size,
  writeInt32,
  writeVarint64,
} from '../../../../src/protocol/protobuf-wire';

const SEED = 20240611;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** protobufjs' Writer as the oracle for varint bytes. */
function oracleInt64(value: bigint): Buffer {
  const bits = BigInt.asUintN(64, value);
  const long = { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
  return Buffer.from(protobuf.Writer.create().int64(long as unknown as number).finish());
}

function ours(value: bigint): Buffer {
  const hi = hiWord(value);
  const lo = loWord(value);
  const out = Buffer.alloc(varint64Size(hi, lo));
  expect(writeVarint64(out, 0, hi, lo)).toBe(out.length);
  return out;
}

describe('protobuf wire primitives', () => {
  const edges = [0n, 1n, 127n, 128n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n, 2n ** 53n - 1n, INT64_MAX, -1n, INT64_MIN];

  it('writes int64 varints exactly as protobufjs does (edges)', () => {
    for (const value of edges) expect(ours(value)).toEqual(oracleInt64(value));
  });

  it('writes and reads back any int64 (property, seeded)', () => {
    fc.assert(fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (value) => {
      const bytes = ours(value);
      expect(bytes).toEqual(oracleInt64(value));
      const reader = new WireReader(bytes, 0, bytes.length);
      reader.readVarint64();
      expect(BigInt.asIntN(64, (BigInt(reader.hi) << 32n) | BigInt(reader.lo))).toBe(value);
      expect(reader.done).toBe(true);
    }), { seed: SEED, numRuns: 500 });
  });

  it('splits safe-integer numbers into the same words as bigints', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), fc.boolean(), (n, negative) => {
      const value = negative ? -n : n;
      expect([hiWord(value), loWord(value)]).toEqual([hiWord(BigInt(value)), loWord(BigInt(value))]);
    }), { seed: SEED, numRuns: 500 });
  });

  it('reads int64 as a number only when it is a safe integer', () => {
    const read = (value: bigint): number => {
      const bytes = ours(value);
      return new WireReader(bytes, 0, bytes.length).readInt64AsNumber('x');
    };
    expect(read(-1n)).toBe(-1);
    expect(read(2n ** 53n - 1n)).toBe(2 ** 53 - 1);
    expect(read(-(2n ** 53n - 1n))).toBe(-(2 ** 53 - 1));
    expect(() => read(2n ** 53n)).toThrow(/safe integer/);
    expect(() => read(INT64_MIN)).toThrow(/safe integer/);
  });

  it('sign-extends negative int32 to 10 bytes, as protobuf requires', () => {
    const out = Buffer.alloc(10);
    expect(writeInt32(out, 0, -2)).toBe(10);
    expect(int32Size(-2)).toBe(10);
    expect(out).toEqual(Buffer.from(protobuf.Writer.create().int32(-2).finish()));
  });
});
