import { unwrapKey } from './aes-key-wrap';
import { GcmValueKey } from './gcm-values';
import { gcmCipherFor } from './sealed-value';

/** A data key as stored before each value it sealed (wrapped), and ready to open them. */
export interface DataKey {
  readonly wrapped: Buffer;
  readonly gcm: GcmValueKey;
}

/** Data keys kept unwrapped for all readers of a server: one per partition leader term and restart. */
const KEYS_KEPT = 256;

const WRONG_MASTER_KEY =
  "its data key does not unwrap with this server's master key (LIFTBRIDGE_ENCRYPTION_KEY is not the key it was sealed with, or the stored data key is damaged)";

/**
 * The data keys a server's readers have unwrapped, the least recently used dropped first (each
 * holds a 64 KiB GHASH table). A key that does not unwrap is not kept: the next reader tries again.
 */
export class UnwrappedDataKeys {
  readonly #keys = new Map<string, DataKey>();

  /** The data key wrapped as `wrapped` under `kek`, or why it cannot be had. */
  get(wrapped: Buffer, kek: Buffer | null, unavailableReason: string | null): DataKey | string {
    const id = wrapped.toString('base64');
    const known = this.#keys.get(id);
    if (known !== undefined) {
      this.#keys.delete(id);
      this.#keys.set(id, known);
      return known;
    }
    if (kek === null) return `this server cannot decrypt: ${unavailableReason ?? 'no master key'}`;
    let raw: Buffer;
    try {
      raw = unwrapKey(kek, wrapped);
    } catch {
      return WRONG_MASTER_KEY;
    }
    try {
      if (gcmCipherFor(raw.length) === null) return `its data key unwraps to ${raw.length} bytes, which is not an AES key`;
      const key: DataKey = { wrapped: Buffer.from(wrapped), gcm: new GcmValueKey(raw) };
      this.#keys.set(id, key);
      if (this.#keys.size > KEYS_KEPT) this.#keys.delete(this.#keys.keys().next().value!);
      return key;
    } finally {
      raw.fill(0);
    }
  }
}
