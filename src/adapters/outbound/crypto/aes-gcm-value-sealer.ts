import { randomBytes } from 'node:crypto';
import { NewRecord } from '../../../application/ports/partition-log.port';
import { ValueSealer, ValueSealingError } from '../../../application/ports/value-encryption.port';
import { wrapKey } from './aes-key-wrap';
import { counterBlocksBytes, GCM_WORK_AT, gcmWorkArea, GcmValueKey, wholeBlocks } from './gcm-values';
import { DATA_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, SEALED_VALUE_OVERHEAD_BYTES, WRAPPED_KEY_LENGTH_BYTES } from './sealed-value';

const TWO_POW_32 = 4294967296;
/** Plaintext bytes sealed in one pass through the GCM work area at most (one value more when it is larger). */
const CHUNK_BYTES = 256 * 1024;

/** The end of the chunk of records that starts at `from`: at least one record, about CHUNK_BYTES. */
function chunkEnd(records: readonly NewRecord[], from: number): number {
  let bytes = 0;
  let i = from;
  do bytes += records[i++]!.value?.length ?? 0;
  while (i < records.length && bytes < CHUNK_BYTES);
  return i;
}

/**
 * Seals values in Go Liftbridge's layout (sealed-value.ts) under one data key, generated at the
 * first seal and kept in memory only (a new one for every sealer, so after every restart, resume
 * or change of leader). One call seals a whole batch into one buffer with one AES call per chunk
 * (gcm-values.ts): no cipher object and no allocation per value, no await.
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
  private dataKey: GcmValueKey | null = null;
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
    const prefix = this.keyPrefix;
    let total = 0;
    for (let i = 0; i < records.length; i++) total += prefix.length + GCM_NONCE_BYTES + (records[i]!.value?.length ?? 0) + GCM_TAG_BYTES;
    const out = Buffer.allocUnsafe(total);
    const result: NewRecord[] = new Array<NewRecord>(records.length);
    try {
      for (let i = 0, pos = 0; i < records.length; ) {
        const end = chunkEnd(records, i);
        pos = this.sealChunk(records, i, end, out, pos, result);
        i = end;
      }
    } catch (error) {
      throw new ValueSealingError(`values could not be sealed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return result;
  }

  /**
   * Seals records [from, to) into `out` from `pos` (gcm-values.ts): prefixes and nonces are written
   * to `out`, the plaintexts copied to the work area with room for their tags, one AES call makes
   * the keystream, then each value is sealed in place and copied out. Returns the end in `out`.
   */
  private sealChunk(records: readonly NewRecord[], from: number, to: number, out: Buffer, pos: number, result: NewRecord[]): number {
    const gcm = this.dataKey!;
    const prefix = this.keyPrefix;
    let workBytes = 0;
    let counterBytes = 0;
    for (let i = from; i < to; i++) {
      const n = records[i]!.value?.length ?? 0;
      workBytes += n + GCM_TAG_BYTES;
      counterBytes += counterBlocksBytes(n);
    }
    const ksStart = GCM_WORK_AT + wholeBlocks(workBytes);
    const memory = gcmWorkArea(ksStart - GCM_WORK_AT + counterBytes);
    gcm.load();
    let work = GCM_WORK_AT;
    let ks = ksStart;
    for (let i = from, p = pos; i < to; i++) {
      const value = records[i]!.value;
      const n = value?.length ?? 0;
      p += prefix.copy(out, p);
      this.writeNonce(out, p);
      ks = gcm.counters(out, p, n, ks);
      p += GCM_NONCE_BYTES + n + GCM_TAG_BYTES;
      if (value !== null && n > 0) memory.set(value, work);
      work += n + GCM_TAG_BYTES;
    }
    gcm.keystream(ksStart, ks);
    work = GCM_WORK_AT;
    ks = ksStart;
    for (let i = from; i < to; i++) {
      const record = records[i]!;
      const n = record.value?.length ?? 0;
      const start = pos;
      pos += prefix.length + GCM_NONCE_BYTES;
      gcm.seal(work, n, ks);
      pos += memory.copy(out, pos, work, work + n + GCM_TAG_BYTES);
      work += n + GCM_TAG_BYTES;
      ks += counterBlocksBytes(n);
      result[i] = { key: record.key, value: out.subarray(start, pos), headers: record.headers, subject: record.subject, reply: record.reply };
    }
    return pos;
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
    this.dataKey = new GcmValueKey(dataKey);
    dataKey.fill(0);
    this.keyPrefix = prefix;
    this.noncePrefix = randomBytes(4).readUInt32BE(0);
    this.sealed = 0;
  }
}
