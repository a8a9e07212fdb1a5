import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES Key Wrap with Padding (RFC 5649, "KWP"), as Go Liftbridge wraps its data keys (Tink's
 * `kwp/subtle`), through OpenSSL's `id-aes{128,192,256}-wrap-pad` ciphers. The cipher is chosen by
 * the length of the key-encryption key. RFC 5649 §3: the alternative initial value is the
 * constant A65959A6 followed by the 32-bit plaintext length, which OpenSSL adds itself; the IV
 * passed here is the 4-byte constant.
 */
const KWP_AIV = Buffer.from('a65959a6', 'hex');

const CIPHER_BY_KEK_BYTES: Readonly<Record<number, string>> = {
  16: 'id-aes128-wrap-pad',
  24: 'id-aes192-wrap-pad',
  32: 'id-aes256-wrap-pad',
};

function kwpCipher(kek: Buffer): string {
  const name = CIPHER_BY_KEK_BYTES[kek.length];
  if (name === undefined) throw new RangeError(`a key-encryption key must be 16, 24 or 32 bytes, got ${kek.length}`);
  return name;
}

/** Wraps `key` (at least 1 byte) under `kek`: 8 bytes longer than `key` rounded up to 8 bytes (40 for a 32-byte key). */
export function wrapKey(kek: Buffer, key: Buffer): Buffer {
  const cipher = createCipheriv(kwpCipher(kek), kek, KWP_AIV);
  return Buffer.concat([cipher.update(key), cipher.final()]);
}

/** Unwraps what `wrapKey` produced; throws when the integrity check fails (another KEK, or altered bytes). */
export function unwrapKey(kek: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv(kwpCipher(kek), kek, KWP_AIV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}
