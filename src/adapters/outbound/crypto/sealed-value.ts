import type { CipherGCMTypes } from 'node:crypto';

/**
 * The stored layout of a sealed value, byte for byte Go Liftbridge's (docs/encryption.md):
 *
 *   [1 byte L = wrapped-key length][L bytes wrapped data key][12-byte nonce][ciphertext || 16-byte GCM tag]
 *
 * The data key is wrapped with AES-KWP (RFC 5649) under the master key; the value is sealed with
 * AES-GCM under the data key, without associated data. A 32-byte data key wraps to 40 bytes.
 */
export const WRAPPED_KEY_LENGTH_BYTES = 1;
export const DATA_KEY_BYTES = 32;
export const WRAPPED_DATA_KEY_BYTES = 40;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** What sealing adds to a value with our 32-byte data keys: 69 bytes. */
export const SEALED_VALUE_OVERHEAD_BYTES = WRAPPED_KEY_LENGTH_BYTES + WRAPPED_DATA_KEY_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES;

/** The smallest sealed value with a wrapped key of `wrappedKeyBytes` (an empty plaintext). */
export const sealedValueBytesMin = (wrappedKeyBytes: number): number => WRAPPED_KEY_LENGTH_BYTES + wrappedKeyBytes + GCM_NONCE_BYTES + GCM_TAG_BYTES;

/** AES-GCM by data-key length: we write 32-byte keys; 16- and 24-byte keys written elsewhere still open. */
export function gcmCipherFor(dataKeyBytes: number): CipherGCMTypes | null {
  return dataKeyBytes === 32 ? 'aes-256-gcm' : dataKeyBytes === 16 ? 'aes-128-gcm' : dataKeyBytes === 24 ? 'aes-192-gcm' : null;
}
