/**
 * The 8-bit GHASH table of one hash key H (GHASH as NIST SP 800-38D defines it; docs/encryption.md)
 * that wasm/gcm-values.wat reads: for each byte position i (0..15) and byte value b, the field
 * element "b at position i, zeros elsewhere" multiplied by H, as its 16 bytes in GCM's bit order
 * (bit 0 = top bit of byte 0).
 * 64 KiB, written once per data key.
 *
 * Table lookups depend on the ciphertext being hashed (not secret) and on H: the usual caveat of
 * table-driven GHASH (cache timing by a process on the same machine) applies, as it did to
 * OpenSSL's own table GHASH before CPUs had carry-less multiply (docs/encryption.md "Cost").
 */
export const GHASH_TABLE_BYTES = 16 * 256 * 16;

/** Writes the table of `h` (= AES_K(0^128)) at `into[0 .. GHASH_TABLE_BYTES)`, which must be zeros. */
export function writeGhashTable(h: Uint8Array, into: Uint8Array): void {
  const words = new DataView(into.buffer, into.byteOffset, GHASH_TABLE_BYTES);
  const hv = new DataView(h.buffer, h.byteOffset, 16);
  // P_k = H·x^k for k = 0..127: multiplying by x shifts right one bit, reducing by R = 0xE1 || 0^120.
  let p0 = hv.getInt32(0);
  let p1 = hv.getInt32(4);
  let p2 = hv.getInt32(8);
  let p3 = hv.getInt32(12);
  for (let k = 0; k < 128; k++) {
    const position = k >>> 3;
    const bit = 0x80 >>> (k & 7);
    // P_k belongs to every entry of this position whose byte has bit k's bit set.
    for (let b = bit; b < 256; b = (b + 1) | bit) {
      const at = (position * 256 + b) * 16;
      words.setInt32(at, words.getInt32(at) ^ p0);
      words.setInt32(at + 4, words.getInt32(at + 4) ^ p1);
      words.setInt32(at + 8, words.getInt32(at + 8) ^ p2);
      words.setInt32(at + 12, words.getInt32(at + 12) ^ p3);
    }
    const carry = p3 & 1;
    p3 = (p3 >>> 1) | (p2 << 31);
    p2 = (p2 >>> 1) | (p1 << 31);
    p1 = (p1 >>> 1) | (p0 << 31);
    p0 = (p0 >>> 1) ^ (carry === 0 ? 0 : 0xe1000000 | 0);
  }
}
