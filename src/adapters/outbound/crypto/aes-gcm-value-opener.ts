import { crc32c } from '@node-rs/crc32';
import { CipherGCMTypes, createDecipheriv, createSecretKey, KeyObject } from 'node:crypto';
import { RecordBatch } from '../../../application/ports/partition-log.port';
import { OpenedBatch, ValueOpener, ValueOpenFailure } from '../../../application/ports/value-encryption.port';
import { ENTRY_HEADER_BYTES, ENTRY_SIZE_POS, MESSAGE_CRC_BYTES, NULL_LENGTH, readEntryOffset } from '../../codec/message-set-layout';
import { unwrapKey } from './aes-key-wrap';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, gcmCipherFor, sealedValueBytesMin, WRAPPED_KEY_LENGTH_BYTES } from './sealed-value';

/** Data keys a reader keeps unwrapped: a partition holds one per leader term and restart, read in order. */
const DATA_KEYS_KEPT = 4;
/** Position of the key length in an encoded message: after CRC (4), magic (1), attributes (1). */
const KEY_LENGTH_AT = MESSAGE_CRC_BYTES + 2;

interface DataKey {
  readonly wrapped: Buffer;
  readonly key: KeyObject;
  readonly cipher: CipherGCMTypes;
}

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
const WRONG_MASTER_KEY =
  "its data key does not unwrap with this server's master key (LIFTBRIDGE_ENCRYPTION_KEY is not the key it was sealed with, or the stored data key is damaged)";
const NOT_AUTHENTIC = 'it failed authentication (the stored value is damaged or was altered)';

/**
 * Opens the sealed values of stored entries for one reader (docs/encryption.md): each entry is
 * copied with its value replaced by the plaintext, its size and CRC-32C rewritten, so the result is
 * a valid message set. The unwrapped data keys are kept (a few, most recent first): the key wrap
 * runs once per data key, not once per value as in Go. A null value stays null: it holds nothing.
 */
export class AesGcmValueOpener implements ValueOpener {
  readonly #kek: Buffer | null;
  private readonly unavailableReason: string | null;
  readonly #keys: DataKey[] = [];
  private readonly scratch: ValueAt = { entryStart: 0, entryEnd: 0, lengthAt: 0, sealedBytes: 0, openedBytes: 0 };

  constructor(kek: Buffer | null, unavailableReason: string | null) {
    this.#kek = kek;
    this.unavailableReason = unavailableReason;
  }

  open(batch: RecordBatch): OpenedBatch {
    const src = batch.bytes;
    const v = this.scratch;
    // Pass 1: the size of the opened batch, and the first entry whose value is not in the layout.
    let total = 0;
    let openable = 0;
    let failure: ValueOpenFailure | null = null;
    for (let pos = 0; openable < batch.count; openable++) {
      const problem = locateValue(src, pos, v);
      if (problem !== null) {
        failure = { offset: readEntryOffset(src, pos), reason: problem };
        break;
      }
      total += v.entryEnd - v.entryStart - (v.sealedBytes - v.openedBytes);
      pos = v.entryEnd;
    }
    // Pass 2: copy each entry with its value opened.
    const out = Buffer.allocUnsafe(total);
    let outPos = 0;
    let pos = 0;
    let opened = 0;
    for (; opened < openable; opened++) {
      locateValue(src, pos, v);
      const end = this.copyOpened(src, v, out, outPos);
      if (typeof end === 'string') {
        failure = { offset: readEntryOffset(src, pos), reason: end };
        break;
      }
      outPos = end;
      pos = v.entryEnd;
    }
    if (opened === 0) return { opened: null, failure };
    return {
      opened: { bytes: outPos === total ? out : out.subarray(0, outPos), firstOffset: batch.firstOffset, lastOffset: batch.firstOffset + opened - 1, count: opened },
      failure,
    };
  }

  /** Writes the entry at `v` with its value opened at `out[at]`; returns the end, or why it cannot. */
  private copyOpened(src: Buffer, v: ValueAt, out: Buffer, at: number): number | string {
    const valueStart = v.lengthAt + 4;
    let p = at + src.copy(out, at, v.entryStart, valueStart);
    if (v.sealedBytes >= 0) {
      const opened = this.openValue(src, valueStart, v.sealedBytes);
      if (typeof opened === 'string') return opened;
      out.writeInt32BE(opened.length, p - 4);
      p += opened.copy(out, p);
    }
    p += src.copy(out, p, valueStart + Math.max(v.sealedBytes, 0), v.entryEnd);
    const messageAt = at + ENTRY_HEADER_BYTES;
    out.writeUInt32BE(p - messageAt, at + ENTRY_SIZE_POS);
    out.writeUInt32BE(crc32c(out.subarray(messageAt + MESSAGE_CRC_BYTES, p)), messageAt);
    return p;
  }

  private openValue(src: Buffer, start: number, bytes: number): Buffer | string {
    const wrappedBytes = src[start]!;
    const dataKey = this.dataKeyFor(src, start + WRAPPED_KEY_LENGTH_BYTES, wrappedBytes);
    if (typeof dataKey === 'string') return dataKey;
    const nonceAt = start + WRAPPED_KEY_LENGTH_BYTES + wrappedBytes;
    const tagAt = start + bytes - GCM_TAG_BYTES;
    try {
      const decipher = createDecipheriv(dataKey.cipher, dataKey.key, src.subarray(nonceAt, nonceAt + GCM_NONCE_BYTES));
      decipher.setAuthTag(src.subarray(tagAt, tagAt + GCM_TAG_BYTES));
      const plaintext = decipher.update(src.subarray(nonceAt + GCM_NONCE_BYTES, tagAt));
      decipher.final();
      return plaintext;
    } catch {
      return NOT_AUTHENTIC;
    }
  }

  /** The unwrapped data key whose wrapped bytes are `src[at, at + bytes)`, or why there is none. */
  private dataKeyFor(src: Buffer, at: number, bytes: number): DataKey | string {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.wrapped.length === bytes && src.compare(k.wrapped, 0, bytes, at, at + bytes) === 0) {
        if (i > 0) keys.unshift(...keys.splice(i, 1));
        return k;
      }
    }
    const kek = this.#kek;
    if (kek === null) return `this server cannot decrypt: ${this.unavailableReason ?? 'no master key'}`;
    let raw: Buffer;
    try {
      raw = unwrapKey(kek, src.subarray(at, at + bytes));
    } catch {
      return WRONG_MASTER_KEY;
    }
    const cipher = gcmCipherFor(raw.length);
    if (cipher === null) return `its data key unwraps to ${raw.length} bytes, which is not an AES key`;
    const dataKey = { wrapped: Buffer.from(src.subarray(at, at + bytes)), key: createSecretKey(raw), cipher };
    raw.fill(0);
    keys.unshift(dataKey);
    if (keys.length > DATA_KEYS_KEPT) keys.pop();
    return dataKey;
  }
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
