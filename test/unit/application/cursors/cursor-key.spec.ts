import { crc32Ieee as clientCrc32 } from '../../../../src/client/partitioner';
import { crc32Ieee, cursorKey, cursorPartition } from '../../../../src/application/cursors/cursor-key';

describe('cursor keys and their __cursors partition', () => {
  it('keys a cursor as <cursorId>,<stream>,<partition>, with commas as the Go server writes it', () => {
    expect(cursorKey('abc', 'foo', 2)).toBe('abc,foo,2');
    expect(cursorKey('__group:g', 'orders', 0)).toBe('__group:g,orders,0');
  });

  it('computes CRC-32 IEEE: the standard check value of "123456789" is 0xCBF43926', () => {
    expect(crc32Ieee(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32Ieee(new Uint8Array())).toBe(0);
  });

  it('routes like the client (and go-liftbridge): CRC-32 IEEE of the UTF-8 key, unsigned, modulo the partition count', () => {
    for (const key of ['abc,foo,2', 'é,ストリーム,7', 'a'.repeat(1000), '__group:g,orders,0']) {
      expect(crc32Ieee(new TextEncoder().encode(key))).toBe(clientCrc32(key));
      for (const partitions of [1, 3, 5, 64]) expect(cursorPartition(key, partitions)).toBe(clientCrc32(key) % partitions);
    }
    // An unsigned checksum above 2^31: a signed one would give a negative partition.
    expect(clientCrc32('abc,foo,2')).toBe(crc32Ieee(new TextEncoder().encode('abc,foo,2')));
    expect(cursorPartition('123456789', 7)).toBe(0xcbf43926 % 7);
  });
});
