import { unwrapKey, wrapKey } from '../../../../src/adapters/outbound/crypto/aes-key-wrap';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** RFC 5649 §6: the two test vectors, both under a 192-bit key-encryption key. */
const RFC5649_KEK = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8');
const RFC5649_VECTORS = [
  { name: '20-octet key', key: hex('c37b7e6492584340 bed1220780894115 5068f738'), wrapped: hex('138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a') },
  { name: '7-octet key', key: hex('466f7250617369'), wrapped: hex('afbeb0f07dfbf541 9200f2ccb50bb24f') },
];

describe('AES key wrap with padding (RFC 5649)', () => {
  it.each(RFC5649_VECTORS)('wraps and unwraps the RFC 5649 vector with a $name', ({ key, wrapped }) => {
    expect(wrapKey(RFC5649_KEK, key).toString('hex')).toBe(wrapped.toString('hex'));
    expect(unwrapKey(RFC5649_KEK, wrapped).toString('hex')).toBe(key.toString('hex'));
  });

  it('wraps a 32-byte data key to 40 bytes under a 16- or a 32-byte master key, and back', () => {
    const dataKey = Buffer.alloc(32, 7);
    for (const kek of [Buffer.alloc(16, 1), Buffer.alloc(32, 2)]) {
      const wrapped = wrapKey(kek, dataKey);
      expect(wrapped).toHaveLength(40);
      expect(wrapped.includes(dataKey)).toBe(false);
      expect(unwrapKey(kek, wrapped)).toEqual(dataKey);
    }
  });

  it('refuses to unwrap under another key, or bytes that were altered', () => {
    const wrapped = wrapKey(Buffer.alloc(32, 2), Buffer.alloc(32, 7));
    expect(() => unwrapKey(Buffer.alloc(32, 3), wrapped)).toThrow();
    const altered = Buffer.from(wrapped);
    altered[17]! ^= 1;
    expect(() => unwrapKey(Buffer.alloc(32, 2), altered)).toThrow();
  });

  it('names the length of a key-encryption key it cannot use, not its bytes', () => {
    expect(() => wrapKey(Buffer.from('twenty-bytes-secret!'), Buffer.alloc(32))).toThrow('a key-encryption key must be 16, 24 or 32 bytes, got 20');
  });
});
