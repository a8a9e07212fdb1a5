import { createCipheriv, createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { NewRecord } from '../../../application/ports/partition-log.port';
import { ValueSealer, ValueSealingError } from '../../../application/ports/value-encryption.port';
import { wrapKey } from './aes-key-wrap';
import { DATA_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, SEALED_VALUE_OVERHEAD_BYTES, WRAPPED_KEY_LENGTH_BYTES } from './sealed-value';

const TWO_POW_32 = 4294967296;

/**
 * Seals values in Go Liftbridge's layout (sealed-value.ts) under one data key, generated at the
 * first seal and kept in memory only (a new one for every sealer, so after every restart, resume
 * or change of leader). One call seals a whole batch into one buffer: no per-value allocation
 * beyond what Node's cipher API makes, no await.
 *
 * Nonces: a 4-byte random prefix chosen with the data key, then a 64-bit counter (NIST SP 800-38D
 * §8.2.1, deterministic construction). Under one data key no nonce can repeat, and no data key
 * outlives its sealer, so none ever does; Go draws 12 random bytes per value, which readers
 * cannot tell apart (docs/encryption.md "Nonces").
 */
export class AesGcmValueSealer implements ValueSealer {
  readonly overheadBytes = SEALED_VALUE_OVERHEAD_BYTES;
  readonly #kek: Buffer | null;
  private readonly unavailableReason: string | null;
  private dataKey: KeyObject | null = null;
  /** [L][wrapped data key]: the first bytes of every value sealed under the current data key. */
  private keyPrefix = Buffer.alloc(0);
  private noncePrefix = 0;
  /** Values sealed under the current data key: the nonce counter. */
  private sealed = 0;

  constructor(kek: Buffer | null, unavailableReason: string | null) {
    this.#kek = kek;
    this.unavailableReason = unavailableReason;
  }

  seal(records: readonly NewRecord[]): NewRecord[] {
    if (this.dataKey === null || this.sealed + records.length > Number.MAX_SAFE_INTEGER) this.newDataKey();
    const dataKey = this.dataKey!;
    const prefix = this.keyPrefix;
    let total = 0;
    for (let i = 0; i < records.length; i++) total += prefix.length + GCM_NONCE_BYTES + (records[i]!.value?.length ?? 0) + GCM_TAG_BYTES;
    const out = Buffer.allocUnsafe(total);
    const result: NewRecord[] = new Array<NewRecord>(records.length);
    let pos = 0;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        const start = pos;
        pos += prefix.copy(out, pos);
        const nonce = out.subarray(pos, pos + GCM_NONCE_BYTES);
        this.writeNonce(out, pos);
        pos += GCM_NONCE_BYTES;
        const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
        if (record.value !== null && record.value.length > 0) pos += cipher.update(record.value).copy(out, pos);
        cipher.final();
        pos += cipher.getAuthTag().copy(out, pos);
        result[i] = { key: record.key, value: out.subarray(start, pos), headers: record.headers, subject: record.subject, reply: record.reply };
      }
    } catch (error) {
      throw new ValueSealingError(`values could not be sealed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return result;
  }

  private writeNonce(out: Buffer, pos: number): void {
    const counter = this.sealed++;
    out.writeUInt32BE(this.noncePrefix, pos);
    out.writeUInt32BE(Math.floor(counter / TWO_POW_32), pos + 4);
    out.writeUInt32BE(counter >>> 0, pos + 8);
  }

  private newDataKey(): void {
    const kek = this.#kek;
    if (kek === null) throw new ValueSealingError(`values cannot be sealed: ${this.unavailableReason ?? 'no master key'}`);
    const dataKey = randomBytes(DATA_KEY_BYTES);
    let wrapped: Buffer;
    try {
      wrapped = wrapKey(kek, dataKey);
    } catch (error) {
      throw new ValueSealingError('the data key could not be wrapped under the master key', { cause: error });
    }
    const prefix = Buffer.allocUnsafe(WRAPPED_KEY_LENGTH_BYTES + wrapped.length);
    prefix[0] = wrapped.length;
    wrapped.copy(prefix, WRAPPED_KEY_LENGTH_BYTES);
    this.dataKey = createSecretKey(dataKey);
    dataKey.fill(0);
    this.keyPrefix = prefix;
    this.noncePrefix = randomBytes(4).readUInt32BE(0);
    this.sealed = 0;
  }
}
