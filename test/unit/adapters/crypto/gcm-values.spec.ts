import { CipherGCMTypes, createCipheriv, randomBytes } from 'node:crypto';
import { counterBlocksBytes, GCM_WORK_AT, gcmWorkArea, GcmValueKey, wholeBlocks } from '../../../../src/adapters/outbound/crypto/gcm-values';
import { GCM_VALUES_WASM_BASE64 } from '../../../../src/adapters/outbound/crypto/wasm/gcm-values-wasm';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MODULES, assemble } = require('../../../../scripts/build-wasm.js') as {
  MODULES: { wat: string; name: string }[];
  assemble(watPath: string): Promise<Buffer>;
};

interface Sealed {
  readonly nonce: Buffer;
  readonly plaintext: Buffer;
  /** ciphertext || tag, as OpenSSL's aes-*-gcm makes them. */
  readonly sealed: Buffer;
}

function sealWithOpenSsl(key: Buffer, plaintext: Buffer): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv(`aes-${key.length * 8}-gcm` as CipherGCMTypes, key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, plaintext, sealed: Buffer.concat([ciphertext, cipher.getAuthTag()]) };
}

/** Lays `values` out in the work area, each with 16 bytes after it, then their keystream. */
function layOut(key: GcmValueKey, values: readonly Sealed[], bytesOf: (v: Sealed) => Buffer): { memory: Buffer; at: number[]; ks: number[] } {
  const valueBytes = values.reduce((n, v) => n + v.plaintext.length + 16, 0);
  const ksStart = GCM_WORK_AT + wholeBlocks(valueBytes);
  const memory = gcmWorkArea(wholeBlocks(valueBytes) + values.reduce((n, v) => n + counterBlocksBytes(v.plaintext.length), 0));
  key.load();
  const at: number[] = [];
  const ks: number[] = [];
  let p = GCM_WORK_AT;
  let k = ksStart;
  for (const v of values) {
    at.push(p);
    p += bytesOf(v).copy(memory, p);
    p += 16 - (bytesOf(v).length - v.plaintext.length);
    ks.push(k);
    k = key.counters(v.nonce, 0, v.plaintext.length, k);
  }
  key.keystream(ksStart, k);
  return { memory, at, ks };
}

const LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 100, 255, 1024, 1500, 4096 + 7];

describe('GCM for many values (OpenSSL AES-ECB keystream, GHASH and XOR in WebAssembly)', () => {
  it.each([16, 24, 32])('seals exactly as OpenSSL aes-*-gcm does with a %i-byte key, a batch of values in one keystream call', (keyBytes) => {
    const raw = randomBytes(keyBytes);
    const key = new GcmValueKey(raw);
    const values = LENGTHS.map((n) => sealWithOpenSsl(raw, randomBytes(n)));
    const { memory, at, ks } = layOut(key, values, (v) => v.plaintext);
    values.forEach((v, i) => {
      key.seal(at[i]!, v.plaintext.length, ks[i]!);
      expect(memory.subarray(at[i]!, at[i]! + v.sealed.length).equals(v.sealed)).toBe(true);
    });
  });

  it.each([16, 24, 32])('opens what OpenSSL aes-*-gcm sealed with a %i-byte key', (keyBytes) => {
    const raw = randomBytes(keyBytes);
    const key = new GcmValueKey(raw);
    const values = LENGTHS.map((n) => sealWithOpenSsl(raw, randomBytes(n)));
    const { memory, at, ks } = layOut(key, values, (v) => v.sealed);
    values.forEach((v, i) => {
      const n = v.plaintext.length;
      expect(key.open(at[i]!, n, ks[i]!, at[i]! + n)).toBe(true);
      expect(memory.subarray(at[i]!, at[i]! + n).equals(v.plaintext)).toBe(true);
    });
  });

  it('refuses a value with any one bit changed, in its ciphertext or its tag, and leaves it as it was', () => {
    const raw = randomBytes(32);
    const key = new GcmValueKey(raw);
    const value = sealWithOpenSsl(raw, randomBytes(70));
    for (let bit = 0; bit < value.sealed.length * 8; bit += 3) {
      const altered = Buffer.from(value.sealed);
      altered[bit >> 3] ^= 1 << (bit & 7);
      const { memory, at, ks } = layOut(key, [value], () => altered);
      expect(key.open(at[0]!, 70, ks[0]!, at[0]! + 70)).toBe(false);
      expect(memory.subarray(at[0]!, at[0]! + altered.length).equals(altered)).toBe(true);
    }
  });

  it('keeps keys apart when they take turns (each loads its own GHASH table), and across memory growth', () => {
    const raws = [randomBytes(32), randomBytes(32)];
    const keys = raws.map((r) => new GcmValueKey(r));
    for (let round = 0; round < 6; round++) {
      const which = round % 2;
      const big = round === 5 ? 300_000 : 50 * round;
      const value = sealWithOpenSsl(raws[which]!, randomBytes(big));
      const { memory, at, ks } = layOut(keys[which]!, [value], (v) => v.sealed);
      expect(keys[which]!.open(at[0]!, big, ks[0]!, at[0]! + big)).toBe(true);
      expect(memory.subarray(at[0]!, at[0]! + big).equals(value.plaintext)).toBe(true);
      // The other key cannot open it.
      const again = layOut(keys[1 - which]!, [value], (v) => v.sealed);
      expect(keys[1 - which]!.open(again.at[0]!, big, again.ks[0]!, again.at[0]! + big)).toBe(false);
    }
  });

  it('runs the binary assembled from its WebAssembly text (npm run build:wasm)', async () => {
    const gcm = MODULES.find((m) => m.name === 'GCM_VALUES_WASM_BASE64')!;
    expect((await assemble(gcm.wat)).toString('base64')).toBe(GCM_VALUES_WASM_BASE64);
  });
});
