import { RecordBatch } from '../../../application/ports/partition-log.port';
import { OpenedBatch, ValueOpener, ValueOpenFailure } from '../../../application/ports/value-encryption.port';
import { ENTRY_HEADER_BYTES, ENTRY_SIZE_POS, MESSAGE_CRC_BYTES, NULL_LENGTH, readEntryOffset } from '../../codec/message-set-layout';
import { counterBlocksBytes, GCM_WORK_AT, gcmEntryCounters, gcmEntryTagChain, gcmOpenEntries, gcmWorkArea, wholeBlocks } from './gcm-values';
import { sealedValueBytesMin, WRAPPED_KEY_LENGTH_BYTES } from './sealed-value';
import { DataKey, UnwrappedDataKeys } from './unwrapped-data-keys';

/** Data keys a reader keeps at hand: a partition holds one per leader term and restart, read in order. */
const DATA_KEYS_KEPT = 4;
/** Position of the key length in an encoded message: after CRC (4), magic (1), attributes (1). */
const KEY_LENGTH_AT = MESSAGE_CRC_BYTES + 2;
/** Bytes per entry in the description the module reads (gcmEntryCounters). */
const INFO_BYTES = 16;
/** Keystream per AES call at most: a chunk of entries is opened while its bytes and keystream are in cache. */
const KEYSTREAM_CHUNK_BYTES = 64 * 1024;

/** A value of an entry: where its length field and bytes are, and what they become once opened. */
interface ValueAt {
  entryStart: number;
  entryEnd: number;
  lengthAt: number;
  /** -1 = null (left as it is). */
  sealedBytes: number;
  openedBytes: number;
}

const NOT_SEALED = (bytes: number): string => `it is not a sealed value (${bytes} bytes, shorter than the sealed layout)`;
const NOT_AUTHENTIC = 'it failed authentication (the stored value is damaged or was altered)';

/**
 * Opens the sealed values of stored entries for one reader (docs/encryption.md): each entry is
 * rewritten with its value replaced by the plaintext and its size rewritten; its CRC-32C field is
 * left as stored (see ValueOpener.open). The batch is opened in the GCM work area (gcm-values.ts), in chunks of
 * entries under one data key (one AES call and one tag check each), and handed out from there
 * without a copy. The
 * unwrapped data keys are shared by the server's readers and each reader keeps the few it last
 * used: the key unwrap runs once per data key, not once per value as in Go. A null value stays
 * null: it holds nothing.
 */
export class AesGcmValueOpener implements ValueOpener {
  readonly #kek: Buffer | null;
  private readonly unavailableReason: string | null;
  readonly #keys: DataKey[] = [];
  readonly #shared: UnwrappedDataKeys;
  /** The batch's entries, described for the module (gcmEntryCounters). */
  private info = Buffer.allocUnsafe(INFO_BYTES * 256);
  /** The batch's chunks: the entry each ends before, its data key (null: null values only), its keystream bytes. */
  private readonly chunkEnds: number[] = [];
  private readonly chunkKeys: (DataKey | null)[] = [];
  private readonly scratch: ValueAt = { entryStart: 0, entryEnd: 0, lengthAt: 0, sealedBytes: 0, openedBytes: 0 };

  constructor(kek: Buffer | null, unavailableReason: string | null, shared: UnwrappedDataKeys) {
    this.#kek = kek;
    this.unavailableReason = unavailableReason;
    this.#shared = shared;
  }

  open(batch: RecordBatch): OpenedBatch {
    const src = batch.bytes;
    const scan = this.describe(src, batch.count);
    let failure = scan.failure;
    if (scan.entries === 0) return { opened: null, failure };
    const infoBytes = scan.entries * INFO_BYTES;
    const data = GCM_WORK_AT + infoBytes;
    const ks = data + wholeBlocks(scan.bytes);
    // The keystream of a chunk, then its tag chain (at most twice as long: gcmEntryTagChain).
    const chain = ks + scan.keystreamBytesMax;
    const memory = gcmWorkArea(chain - GCM_WORK_AT + 2 * scan.keystreamBytesMax);
    this.info.copy(memory, GCM_WORK_AT, 0, infoBytes);
    src.copy(memory, data, 0, scan.bytes);
    let w = data;
    let opened = 0;
    for (let c = 0; c < this.chunkEnds.length; c++) {
      const count = this.chunkEnds[c]! - opened;
      const info = GCM_WORK_AT + opened * INFO_BYTES;
      const key = this.chunkKeys[c]!;
      let tagsChecked = false;
      if (key !== null) {
        key.gcm.load();
        key.gcm.keystream(ks, gcmEntryCounters(info, count, data, ks));
        // All tags at once (OpenSSL's GHASH); when that fails, value by value to find the first bad one.
        tagsChecked = key.gcm.tagsAuthentic(chain, gcmEntryTagChain(info, count, data, ks, chain));
      }
      const done = gcmOpenEntries(info, count, data, ks, w, ENTRY_SIZE_POS, ENTRY_HEADER_BYTES, tagsChecked);
      if (done > 0) w = data + memory.readInt32LE(info + (done - 1) * INFO_BYTES + 12);
      opened += done;
      if (done < count) {
        failure = { offset: readEntryOffset(src, this.info.readInt32LE(opened * INFO_BYTES)), reason: NOT_AUTHENTIC };
        break;
      }
    }
    if (opened === 0) return { opened: null, failure };
    return { opened: { bytes: memory.subarray(data, w), firstOffset: batch.firstOffset, lastOffset: batch.firstOffset + opened - 1, count: opened }, failure };
  }

  /**
   * Describes the entries up to the first whose value is not in the sealed layout or whose data key
   * cannot be had (`failure`), and splits them into chunks under one data key of at most
   * KEYSTREAM_CHUNK_BYTES of keystream (at least one entry).
   */
  private describe(src: Buffer, count: number): { entries: number; bytes: number; keystreamBytesMax: number; failure: ValueOpenFailure | null } {
    const v = this.scratch;
    this.chunkEnds.length = 0;
    this.chunkKeys.length = 0;
    let key: DataKey | null = null;
    let keystream = 0;
    let keystreamMax = 0;
    let failure: ValueOpenFailure | null = null;
    let i = 0;
    let pos = 0;
    for (; i < count; i++, pos = v.entryEnd) {
      const notSealed = locateValue(src, pos, v);
      if (notSealed !== null) {
        failure = { offset: readEntryOffset(src, pos), reason: notSealed };
        break;
      }
      if (v.sealedBytes >= 0) {
        const wrappedAt = v.lengthAt + 4 + WRAPPED_KEY_LENGTH_BYTES;
        const wrappedBytes = src[wrappedAt - 1]!;
        const needed = counterBlocksBytes(v.openedBytes);
        const sameKey: boolean = key !== null && sameBytes(src, wrappedAt, wrappedBytes, key.wrapped);
        if (!sameKey || keystream + needed > KEYSTREAM_CHUNK_BYTES) {
          const found: DataKey | string = sameKey ? key! : this.dataKeyFor(src, wrappedAt, wrappedBytes);
          if (typeof found === 'string') {
            failure = { offset: readEntryOffset(src, pos), reason: found };
            break;
          }
          if (i > 0) this.endChunk(i, key);
          key = found;
          keystream = 0;
        }
        keystream += needed;
        if (keystream > keystreamMax) keystreamMax = keystream;
      }
      this.describeEntry(i, v);
    }
    if (i > 0) this.endChunk(i, key);
    return { entries: i, bytes: pos, keystreamBytesMax: keystreamMax, failure };
  }

  private endChunk(end: number, key: DataKey | null): void {
    this.chunkEnds.push(end);
    this.chunkKeys.push(key);
  }

  /** Entry `i` for the module: offsets from the batch's start, and the stored value length. */
  private describeEntry(i: number, v: ValueAt): void {
    const at = i * INFO_BYTES;
    if (at + INFO_BYTES > this.info.length) {
      const grown = Buffer.allocUnsafe(this.info.length * 2);
      this.info.copy(grown);
      this.info = grown;
    }
    this.info.writeInt32LE(v.entryStart, at);
    this.info.writeInt32LE(v.lengthAt, at + 4);
    this.info.writeInt32LE(v.sealedBytes, at + 8);
    this.info.writeInt32LE(v.entryEnd, at + 12);
  }

  /** The unwrapped data key whose wrapped bytes are `src[at, at + bytes)`, or why there is none. */
  private dataKeyFor(src: Buffer, at: number, bytes: number): DataKey | string {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (sameBytes(src, at, bytes, k.wrapped)) {
        if (i > 0) keys.unshift(...keys.splice(i, 1));
        return k;
      }
    }
    const found = this.#shared.get(src.subarray(at, at + bytes), this.#kek, this.unavailableReason);
    if (typeof found === 'string') return found;
    keys.unshift(found);
    if (keys.length > DATA_KEYS_KEPT) keys.pop();
    return found;
  }
}

/** A loop, not Buffer.compare: for 40 bytes a call into C++ costs more than the comparison. */
function sameBytes(src: Buffer, at: number, bytes: number, wrapped: Buffer): boolean {
  if (wrapped.length !== bytes) return false;
  for (let i = 0; i < bytes; i++) if (src[at + i] !== wrapped[i]) return false;
  return true;
}

/** Finds the value of the entry at `pos` (a log-verified entry); returns why it is not in the sealed layout, or null. */
function locateValue(src: Buffer, pos: number, v: ValueAt): string | null {
  v.entryStart = pos;
  v.entryEnd = pos + ENTRY_HEADER_BYTES + src.readUInt32BE(pos + ENTRY_SIZE_POS);
  const keyLengthAt = pos + ENTRY_HEADER_BYTES + KEY_LENGTH_AT;
  v.lengthAt = keyLengthAt + 4 + Math.max(src.readInt32BE(keyLengthAt), 0);
  const sealed = src.readInt32BE(v.lengthAt);
  v.sealedBytes = sealed;
  v.openedBytes = sealed;
  if (sealed === NULL_LENGTH) return null;
  if (sealed < WRAPPED_KEY_LENGTH_BYTES) return NOT_SEALED(sealed);
  const min = sealedValueBytesMin(src[v.lengthAt + 4]!);
  if (sealed < min) return NOT_SEALED(sealed);
  v.openedBytes = sealed - min;
  return null;
}
