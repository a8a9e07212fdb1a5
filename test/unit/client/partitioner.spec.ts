import { byKey, crc32Ieee, explicit, roundRobin } from '../../../src/client/partitioner';

const ctx = (key: string, partitions: number, stream = 's') => ({ stream, key: Buffer.from(key), value: Buffer.alloc(0), partitions });

describe('crc32Ieee', () => {
  it.each([
    ['', 0x00000000],
    ['hello', 0x3610a686],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('crc32(%j) = %i (IEEE, unsigned)', (input, expected) => {
    expect(crc32Ieee(Buffer.from(input))).toBe(expected);
    expect(crc32Ieee(input)).toBe(expected);
  });
});

describe('byKey (go-liftbridge PartitionByKey)', () => {
  it('is the unsigned CRC-32 IEEE of the key modulo the partition count', () => {
    expect(byKey(ctx('hello', 4))).toBe(0x3610a686 % 4);
    // 0xcbf43926 > 2^31: a signed interpretation would give a negative partition.
    expect(byKey(ctx('123456789', 10))).toBe(3421780262 % 10);
    expect(byKey(ctx('123456789', 10))).toBe(2);
    expect(byKey(ctx('', 3))).toBe(0);
  });

  it('is stable and within range for many keys', () => {
    for (let i = 0; i < 1000; i++) {
      const p = byKey(ctx(`key-${i}`, 7));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(byKey(ctx(`key-${i}`, 7))).toBe(p);
    }
  });
});

describe('roundRobin', () => {
  it('counts per stream modulo the partition count', () => {
    const rr = roundRobin();
    expect([0, 1, 2, 3, 4].map(() => rr(ctx('', 3, 'a')))).toEqual([0, 1, 2, 0, 1]);
    expect(rr(ctx('', 3, 'b'))).toBe(0);
    expect(rr(ctx('', 3, 'a'))).toBe(2);
  });

  it('has independent counters per partitioner', () => {
    expect(roundRobin()(ctx('', 5))).toBe(0);
    expect(roundRobin()(ctx('', 5))).toBe(0);
  });
});

describe('explicit', () => {
  it('always returns its partition', () => {
    expect(explicit(3)(ctx('x', 8))).toBe(3);
  });
});
