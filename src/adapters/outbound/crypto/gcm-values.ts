import { Cipher, CipherGCMTypes, createCipheriv, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { GHASH_TABLE_BYTES, writeGhashTable } from './ghash-table';
import { GCM_VALUES_WASM_BASE64 } from './wasm/gcm-values-wasm';

const BLOCK = 16;
const PAGE = 65536;
/** Where the caller's values and keystream start in the module's memory (wasm/gcm-values.wat). */
export const GCM_WORK_AT = 65600;
/** 16 bytes of the module's memory below the work area, for `tagsAuthentic`. */
const EXPECTED_TAG_AT = 65568;
const ZERO_NONCE = new Uint8Array(12);

/** The part of the WebAssembly global used here (this project's TypeScript libraries do not declare it). */
declare const WebAssembly: {
  Module: new (binary: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
};

interface GcmExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  counters(n0: number, n1: number, n2: number, bytes: number, at: number): number;
  open(at: number, bytes: number, ks: number, tag: number): number;
  seal(at: number, bytes: number, ks: number): void;
  entry_counters(info: number, count: number, data: number, ks: number): number;
  open_entries(info: number, count: number, data: number, ks: number, w: number, sizePos: number, headerBytes: number, verified: number): number;
  entry_tag_chain(info: number, count: number, data: number, ks: number, out: number): number;
  length_block_hash(bytes: number, at: number): void;
}

/**
 * One instance for the process: JavaScript is single-threaded and every use below is synchronous,
 * so a key loads its GHASH table when it is not the one loaded (a 64 KiB copy, once per batch at most).
 */
let workspace: { readonly gcm: GcmExports; view: Buffer; tableOf: GcmValueKey | null } | null = null;

function theWorkspace(): NonNullable<typeof workspace> {
  if (workspace === null) {
    const module = new WebAssembly.Module(Buffer.from(GCM_VALUES_WASM_BASE64, 'base64'));
    const gcm = new WebAssembly.Instance(module).exports as unknown as GcmExports;
    workspace = { gcm, view: Buffer.from(gcm.memory.buffer), tableOf: null };
  }
  return workspace;
}

/** How much work area is kept between batches; a larger one is given back once a batch fits in this. */
export const WORK_AREA_KEPT_BYTES = 8 * 1024 * 1024;

/** The bytes of WebAssembly memory the work area holds now (0 before first use). */
export const gcmMemoryBytes = (): number => workspace?.gcm.memory.buffer.byteLength ?? 0;

/**
 * Makes the work area [GCM_WORK_AT, GCM_WORK_AT + bytes) available and returns the module's memory,
 * valid (with what is in it) until the next `gcmWorkArea` call. One area for the process: callers
 * use it synchronously and are done with it before they yield.
 */
export function gcmWorkArea(bytes: number): Buffer {
  let w = theWorkspace();
  // WebAssembly memory never shrinks: after a large batch, the next one that fits in the kept size
  // gets a fresh instance, and the large memory goes with the old one (a 100 MiB value no longer
  // leaves ~200 MiB resident for the life of the process).
  if (w.gcm.memory.buffer.byteLength > GCM_WORK_AT + WORK_AREA_KEPT_BYTES && bytes <= WORK_AREA_KEPT_BYTES) {
    workspace = null;
    w = theWorkspace();
  }
  const needed = GCM_WORK_AT + bytes;
  if (needed > w.gcm.memory.buffer.byteLength) {
    w.gcm.memory.grow(Math.ceil((needed - w.gcm.memory.buffer.byteLength) / PAGE));
    w.view = Buffer.from(w.gcm.memory.buffer);
  }
  return w.view;
}

/**
 * Stored entries with sealed values, opened in place in the work area (wasm/gcm-values.wat):
 * `info` holds 16 bytes per entry (little-endian i32, offsets from `data`: entry start, the value's
 * length field, the stored value length or -1 for null, entry end). Writes the counter blocks of
 * all their sealed values from `ks`; returns the end.
 */
export function gcmEntryCounters(info: number, count: number, data: number, ks: number): number {
  return workspace!.gcm.entry_counters(info, count, data, ks);
}

/**
 * Checks (unless `tagsChecked`), opens and compacts the entries described at `info` (see
 * gcmEntryCounters) to `w` on, under the key whose table is loaded and the keystream at `ks`; each
 * entry's new end (from `data`) replaces its old one in `info`. Returns `count`, or the index of the
 * first value that is not authentic (the entries before it are done). `sizePos` and `headerBytes`
 * say where an entry's size field is and what it does not count.
 */
export function gcmOpenEntries(info: number, count: number, data: number, ks: number, w: number, sizePos: number, headerBytes: number, tagsChecked: boolean): number {
  return workspace!.gcm.open_entries(info, count, data, ks, w, sizePos, headerBytes, tagsChecked ? 1 : 0);
}

/**
 * Writes at `out` the stream whose GHASH is zero exactly when every sealed value described at
 * `info` is authentic (docs/encryption.md "Checking a batch of tags"); returns its end. Check it
 * with `GcmValueKey.tagsAuthentic`.
 */
export function gcmEntryTagChain(info: number, count: number, data: number, ks: number, out: number): number {
  return workspace!.gcm.entry_tag_chain(info, count, data, ks, out);
}

/**
 * AES-GCM (NIST SP 800-38D, 96-bit nonces, no associated data) for many small values under one
 * key, without a cipher object per value (~5 µs each in Node 20 with OpenSSL 3, once per value
 * because each value has its own nonce). GCM is counter mode plus GHASH: the counter blocks of a
 * batch of values are encrypted by one AES-ECB call (OpenSSL, AES-NI); GHASH and the XOR run in
 * WebAssembly (wasm/gcm-values.wat). The bytes are those of OpenSSL's aes-*-gcm, which
 * test/unit/adapters/crypto/gcm-values.spec.ts checks value by value.
 *
 * Use, all synchronously: get the work area (`gcmWorkArea`), copy the values into it, write each
 * value's counter blocks (`counters`, or `gcmEntryCounters` for stored entries), `load` the key and
 * turn them into keystream with `keystream` (one call), then `open` or `seal` each value in place at
 * its keystream position (or `gcmOpenEntries`).
 */
export class GcmValueKey {
  private readonly ecb: Cipher;
  private readonly table = new Uint8Array(GHASH_TABLE_BYTES);
  private readonly gcmName: CipherGCMTypes;
  readonly #key: KeyObject;
  /** E(J0) for the all-zero nonce: what GCM XORs into the tag of `tagsAuthentic`'s GMAC. */
  private readonly zeroNonceMask: Buffer;

  /** `raw`: a 16-, 24- or 32-byte AES key. */
  constructor(raw: Uint8Array) {
    this.ecb = createCipheriv(`aes-${raw.length * 8}-ecb`, raw, null);
    this.ecb.setAutoPadding(false);
    writeGhashTable(this.ecb.update(new Uint8Array(BLOCK)), this.table);
    this.gcmName = `aes-${raw.length * 8}-gcm` as CipherGCMTypes;
    this.#key = createSecretKey(raw);
    const j0 = new Uint8Array(BLOCK);
    j0[BLOCK - 1] = 1;
    this.zeroNonceMask = this.ecb.update(j0);
  }

  /**
   * True when GHASH of the stream [from, to) of the work area is zero (a tag chain from
   * `gcmEntryTagChain`), computed by OpenSSL (carry-less multiply): GCM with that stream as
   * associated data and nothing to encrypt has then the tag E(J0) XOR L·H, L its length block.
   * Needs `load` (for L·H).
   */
  tagsAuthentic(from: number, to: number): boolean {
    const w = workspace!;
    const gmac = createCipheriv(this.gcmName, this.#key, ZERO_NONCE);
    gmac.setAAD(w.view.subarray(from, to));
    gmac.final();
    const tag = gmac.getAuthTag();
    w.gcm.length_block_hash(to - from, EXPECTED_TAG_AT);
    const expected = w.view.subarray(EXPECTED_TAG_AT, EXPECTED_TAG_AT + BLOCK);
    for (let i = 0; i < BLOCK; i++) expected[i] ^= this.zeroNonceMask[i]!;
    return timingSafeEqual(tag, expected);
  }

  /** Loads this key's GHASH table into the module, unless it is the one loaded. */
  load(): void {
    const w = theWorkspace();
    if (w.tableOf !== this) {
      w.view.set(this.table, 0);
      w.tableOf = this;
    }
  }

  /** Writes at `at` the counter blocks of a value of `bytes` bytes under the 12-byte nonce at `nonce[nonceAt]`; returns the end. */
  counters(nonce: Buffer, nonceAt: number, bytes: number, at: number): number {
    return workspace!.gcm.counters(nonce.readInt32LE(nonceAt), nonce.readInt32LE(nonceAt + 4), nonce.readInt32LE(nonceAt + 8), bytes, at);
  }

  /** Encrypts the counter blocks in [from, to) of the work area in place: they become keystream. */
  keystream(from: number, to: number): void {
    const w = workspace!;
    const ks = this.ecb.update(w.view.subarray(from, to));
    if (ks.length !== to - from) throw new Error(`AES returned ${ks.length} bytes for ${to - from}`);
    w.view.set(ks, from);
  }

  /** Opens in place the `bytes` bytes at `at` when the tag at `tag` is theirs; false (nothing written) when not. Needs `load`. */
  open(at: number, bytes: number, ks: number, tag: number): boolean {
    return workspace!.gcm.open(at, bytes, ks, tag) === 1;
  }

  /** Seals in place the `bytes` bytes at `at` and writes the 16-byte tag right after them. Needs `load`. */
  seal(at: number, bytes: number, ks: number): void {
    workspace!.gcm.seal(at, bytes, ks);
  }
}

/** Bytes of counter blocks (so of keystream) a value of `bytes` bytes needs: J0, then one per block. */
export function counterBlocksBytes(bytes: number): number {
  return BLOCK * (1 + Math.ceil(bytes / BLOCK));
}

/** `n` rounded up to a whole block, so that keystream starts aligned. */
export function wholeBlocks(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}
