import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { AesValueEncryption } from '../../../../src/adapters/outbound/crypto/aes-value-encryption';
import { MasterKey, masterKeyProblem } from '../../../../src/adapters/outbound/crypto/master-key';
import { decodeMessageSet, encodeEntries, EntryFields } from '../../../../src/adapters/codec/message-set';
import { NewRecord, RecordBatch } from '../../../../src/application/ports/partition-log.port';
import { ValueSealingError } from '../../../../src/application/ports/value-encryption.port';
import { decodeOpened } from '../../../support/opened-entries';
import * as gcmValues from '../../../../src/adapters/outbound/crypto/gcm-values';

/** The master keys of Go Liftbridge's encryption tests (16 and 32 bytes). */
const GO_KEY_16 = 't7w!z%C*F-JaNcRf';
const GO_KEY_32 = '/A?D(G+KbPdSgVkYp3s6v9y$B&E)H@Mc';
const KWP_AIV = Buffer.from('a65959a6', 'hex');

/**
 * Sealed step by step as Go Liftbridge's LocalEncryptionHandler.Seal does, with Node's primitives
 * only: AES-KWP wrap of the data key under the master key, AES-256-GCM with a 12-byte nonce and no
 * associated data, then [len(wrapped)][wrapped][nonce][ciphertext || tag].
 */
function sealLikeGo(masterKey: string, plaintext: Buffer, dataKey = randomBytes(32), nonce = randomBytes(12)): Buffer {
  const kek = Buffer.from(masterKey, 'utf8');
  const wrap = createCipheriv(kek.length === 16 ? 'id-aes128-wrap-pad' : 'id-aes256-wrap-pad', kek, KWP_AIV);
  const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final()]);
  const gcm = createCipheriv('aes-256-gcm', dataKey, nonce);
  const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  return Buffer.concat([Buffer.from([wrapped.length]), wrapped, nonce, ciphertext, gcm.getAuthTag()]);
}

/** Opens a stored value step by step, as Go Liftbridge's LocalEncryptionHandler.Read does. */
function openLikeGo(masterKey: string, sealed: Buffer): Buffer {
  const kek = Buffer.from(masterKey, 'utf8');
  const wrappedBytes = sealed[0]!;
  const unwrap = createDecipheriv(kek.length === 16 ? 'id-aes128-wrap-pad' : 'id-aes256-wrap-pad', kek, KWP_AIV);
  const dataKey = Buffer.concat([unwrap.update(sealed.subarray(1, 1 + wrappedBytes)), unwrap.final()]);
  const rest = sealed.subarray(1 + wrappedBytes);
  const gcm = createDecipheriv('aes-256-gcm', dataKey, rest.subarray(0, 12));
  gcm.setAuthTag(rest.subarray(rest.length - 16));
  return Buffer.concat([gcm.update(rest.subarray(12, rest.length - 16)), gcm.final()]);
}

/**
 * "hello, liftbridge" sealed as above under GO_KEY_32 with the data key 00 01 … 1f and the nonce
 * cafebabefacedbaddecaf888: pins the stored bytes of the layout.
 */
const FIXTURE =
  '2801ac99c9f2dd0f6f6f84c9b410fdd2c84c681aa8473b3c98cba1e95eb5e3dbad95c6fb7bcbd84ebccafebabefacedbaddecaf888e2c6cc4ac5566f772f6d29bf0974ed5868578a4e2dc0ee0e532db3c3058f979412';

const encryption = (key: string | null): AesValueEncryption => new AesValueEncryption(key === null ? null : MasterKey.fromString(key));
const record = (value: Buffer | null, key: Buffer | null = Buffer.from('k')): NewRecord => ({ key, value, headers: { h: Buffer.from('header value') }, subject: 'orders', reply: '' });

/** Stored entries (offsets from 0) holding `values` as they are, headers and key in clear. */
function batchOf(values: (Buffer | null)[]): RecordBatch {
  const entries: EntryFields[] = values.map((value, offset) => ({ offset, timestampNs: 1_000n + BigInt(offset), leaderEpoch: 1, key: Buffer.from(`key-${offset}`), value, headers: { subject: Buffer.from('orders'), h: Buffer.from('x') } }));
  return { bytes: encodeEntries(entries), firstOffset: 0, lastOffset: values.length - 1, count: values.length };
}

describe('sealed values in the stored layout of Go Liftbridge', () => {
  it('opens the pinned fixture, and a value sealed here opens step by step with Node primitives', () => {
    expect(openLikeGo(GO_KEY_32, Buffer.from(FIXTURE, 'hex')).toString()).toBe('hello, liftbridge');
    const opened = encryption(GO_KEY_32).opener().open(batchOf([Buffer.from(FIXTURE, 'hex')]));
    expect(opened.failure).toBeNull();
    expect(decodeOpened(opened.opened!.bytes)[0]!.value!.toString()).toBe('hello, liftbridge');

    for (const masterKey of [GO_KEY_16, GO_KEY_32]) {
      const plaintext = Buffer.from(`value sealed under a ${masterKey.length}-byte master key`);
      const [sealed] = encryption(masterKey).sealer().seal([record(plaintext)]);
      const value = Buffer.from(sealed!.value!);
      expect(value[0]).toBe(40); // L: a 32-byte data key wraps to 40 bytes
      expect(value).toHaveLength(1 + 40 + 12 + plaintext.length + 16);
      expect(value.includes(plaintext)).toBe(false);
      expect(openLikeGo(masterKey, value)).toEqual(plaintext);
    }
  });

  it('opens values sealed step by step as Go does, keeping keys, headers, offsets and timestamps, with valid CRCs', () => {
    const plaintexts = ['first', '', 'third value'].map((s) => Buffer.from(s));
    const stored = batchOf(plaintexts.map((p) => sealLikeGo(GO_KEY_16, p)));
    const { opened, failure } = encryption(GO_KEY_16).opener().open(stored);
    expect(failure).toBeNull();
    expect(opened).toMatchObject({ firstOffset: 0, lastOffset: 2, count: 3 });
    const entries = decodeOpened(opened!.bytes); // validates sizes (and CRCs, computed over the plaintext)
    expect(entries.map((e) => e.value!.toString())).toEqual(['first', '', 'third value']);
    expect(entries.map((e) => e.key!.toString())).toEqual(['key-0', 'key-1', 'key-2']);
    expect(entries.map((e) => e.timestampNs)).toEqual([1000n, 1001n, 1002n]);
    expect(entries[2]!.headers).toEqual({ subject: Buffer.from('orders'), h: Buffer.from('x') });
  });

  it('leaves keys and headers in clear and seals a null value as an empty one, as Go does', () => {
    const [sealed, sealedNull] = encryption(GO_KEY_32).sealer().seal([record(Buffer.from('secret')), record(null)]);
    expect(sealed!.key).toEqual(Buffer.from('k'));
    expect(sealed!.headers).toEqual({ h: Buffer.from('header value') });
    expect(sealed!.subject).toBe('orders');
    expect(sealedNull!.value).toHaveLength(69);
    expect(openLikeGo(GO_KEY_32, Buffer.from(sealedNull!.value!))).toHaveLength(0);
  });

  it('uses one data key per sealer and never repeats a nonce under it', () => {
    const e = encryption(GO_KEY_32);
    const first = e.sealer().seal(Array.from({ length: 2000 }, (_, i) => record(Buffer.from(`v${i}`))));
    const second = e.sealer().seal([record(Buffer.from('v0'))]);
    const prefixes = new Set(first.map((r) => Buffer.from(r.value!.subarray(0, 41)).toString('hex')));
    const nonces = new Set(first.map((r) => Buffer.from(r.value!.subarray(41, 53)).toString('hex')));
    expect(prefixes.size).toBe(1);
    expect(nonces.size).toBe(first.length);
    expect(prefixes.has(Buffer.from(second[0]!.value!.subarray(0, 41)).toString('hex'))).toBe(false);
    // A reader opens values of both data keys, in any order.
    const { opened, failure } = e.opener().open(batchOf([second[0]!.value, first[5]!.value, second[0]!.value, first[7]!.value].map((v) => Buffer.from(v!))));
    expect(failure).toBeNull();
    expect(decodeOpened(opened!.bytes).map((x) => x.value!.toString())).toEqual(['v0', 'v5', 'v0', 'v7']);
  });

  it('gives back the memory a large value grew the work area to, at the next batch that fits the kept size', () => {
    const e = encryption(GO_KEY_32);
    const large = randomBytes(gcmValues.WORK_AREA_KEPT_BYTES + 4 * 1024 * 1024);
    const [sealedLarge] = e.sealer().seal([record(large)]);
    expect(gcmValues.gcmMemoryBytes()).toBeGreaterThan(large.length);
    const small = Buffer.from('small');
    const [sealedSmall] = e.sealer().seal([record(small)]);
    expect(gcmValues.gcmMemoryBytes()).toBeLessThanOrEqual(gcmValues.GCM_WORK_AT + gcmValues.WORK_AREA_KEPT_BYTES);
    // Both still open, the large one after the shrink (it grows the area again, for that batch only).
    const { opened, failure } = e.opener().open(batchOf([Buffer.from(sealedSmall!.value!), Buffer.from(sealedLarge!.value!)]));
    expect(failure).toBeNull();
    const values = decodeOpened(opened!.bytes).map((x) => x.value!);
    expect(values[0]!.equals(small) && values[1]!.equals(large)).toBe(true);
    e.opener().open(batchOf([Buffer.from(sealedSmall!.value!)]));
    expect(gcmValues.gcmMemoryBytes()).toBeLessThanOrEqual(gcmValues.GCM_WORK_AT + gcmValues.WORK_AREA_KEPT_BYTES);
  });

  it('seals and opens batches of many chunks (64 KiB of keystream each), null and large values among them', () => {
    const e = encryption(GO_KEY_32);
    const plaintexts = Array.from({ length: 900 }, (_, i) => (i % 97 === 0 ? null : randomBytes(i === 450 ? 300_000 : (i * 37) % 1500)));
    const sealed = e.sealer().seal(plaintexts.map((p) => record(p)));
    expect(sealed.filter((r, i) => !openLikeGo(GO_KEY_32, Buffer.from(r.value!)).equals(plaintexts[i] ?? Buffer.alloc(0)))).toEqual([]);
    const { opened, failure } = e.opener().open(batchOf(sealed.map((r, i) => (plaintexts[i] === null ? null : Buffer.from(r.value!)))));
    expect(failure).toBeNull();
    const values = decodeOpened(opened!.bytes).map((x) => x.value);
    expect(values).toHaveLength(plaintexts.length);
    // Buffer.equals: jest's deep equality takes seconds over 1.4 MB of bytes.
    expect(values.filter((v, i) => (v === null ? plaintexts[i] !== null : plaintexts[i] === null || !v.equals(plaintexts[i]!)))).toEqual([]);
  });

  it('leaves a stored null value null', () => {
    const { opened, failure } = encryption(GO_KEY_32).opener().open(batchOf([null]));
    expect(failure).toBeNull();
    expect(decodeOpened(opened!.bytes)[0]!.value).toBeNull();
  });
});

describe('values that cannot be opened', () => {
  const sealedBatch = (masterKey: string, count: number): RecordBatch =>
    batchOf(Array.from({ length: count }, (_, i) => sealLikeGo(masterKey, Buffer.from(`value ${i}`))));

  it('under another master key: fails at the first value, with the entries before it opened', () => {
    const stored = batchOf([sealLikeGo(GO_KEY_16, Buffer.from('readable')), sealLikeGo(GO_KEY_32, Buffer.from('other key'))]);
    const { opened, failure } = encryption(GO_KEY_16).opener().open(stored);
    expect(opened).toMatchObject({ firstOffset: 0, lastOffset: 0, count: 1 });
    expect(decodeOpened(opened!.bytes)[0]!.value!.toString()).toBe('readable');
    expect(failure).toEqual({ offset: 1, reason: expect.stringContaining("does not unwrap with this server's master key") as unknown });
    const wrongLength = encryption('0123456789abcdef0123456789abcdef').opener().open(sealedBatch(GO_KEY_16, 1));
    expect(wrongLength.opened).toBeNull();
    expect(wrongLength.failure!.offset).toBe(0);
  });

  it.each([
    ['a ciphertext byte', (v: Buffer) => v.length - 20, 'failed authentication'],
    ['a tag byte', (v: Buffer) => v.length - 1, 'failed authentication'],
    ['a nonce byte', () => 45, 'failed authentication'],
    ['a wrapped-key byte', () => 10, 'does not unwrap'],
  ])('with %s altered: a clear reason, never a crash', (_what, at, reason) => {
    const stored = sealedBatch(GO_KEY_32, 3);
    const entries = decodeMessageSet(stored.bytes);
    const values = entries.map((e) => Buffer.from(e.value!));
    values[2]![at(values[2]!)]! ^= 0x40;
    const { opened, failure } = encryption(GO_KEY_32).opener().open(batchOf(values));
    expect(opened!.count).toBe(2);
    expect(failure).toEqual({ offset: 2, reason: expect.stringContaining(reason) as unknown });
  });

  describe('under one data key, whose tags are checked together (docs/encryption.md "Checking a batch of tags")', () => {
    /** 20 values sealed by one sealer (one data key): [L][wrapped 40][nonce 12][ciphertext][tag 16]. */
    const oneKey = (): { e: AesValueEncryption; values: Buffer[] } => {
      const e = encryption(GO_KEY_32);
      const values = e.sealer().seal(Array.from({ length: 20 }, (_, i) => record(Buffer.from(`value number ${i} `.repeat(i % 4))))).map((r) => Buffer.from(r.value!));
      return { e, values };
    };
    const CIPHERTEXT_AT = 1 + 40 + 12;

    it('opens an authentic batch with one check of all its tags', () => {
      const { e, values } = oneKey();
      const openEntries = jest.spyOn(gcmValues, 'gcmOpenEntries');
      try {
        const { opened, failure } = e.opener().open(batchOf(values));
        expect(failure).toBeNull();
        expect(decodeOpened(opened!.bytes).map((x) => x.value!.toString())).toEqual(values.map((_, i) => `value number ${i} `.repeat(i % 4)));
        expect(openEntries).toHaveBeenCalledTimes(1);
        expect(openEntries.mock.calls[0]![7]).toBe(true); // tags checked together
      } finally {
        openEntries.mockRestore();
      }
    });

    it.each([
      ['a ciphertext bit of the 8th value', (v: Buffer[]) => void (v[7]![CIPHERTEXT_AT + 3]! ^= 0x01), 7],
      ['a tag bit of the 1st value', (v: Buffer[]) => void (v[0]![v[0]!.length - 16]! ^= 0x80), 0],
      ['a nonce bit of the last value', (v: Buffer[]) => void (v[19]![1 + 40 + 5]! ^= 0x10), 19],
      ['the ciphertext of an empty value (a byte added before its tag)', (v: Buffer[]) => void (v[4] = Buffer.concat([v[4]!.subarray(0, CIPHERTEXT_AT), Buffer.from([7]), v[4]!.subarray(CIPHERTEXT_AT)])), 4],
      // A tag change and the same change in the next value's first block: they would cancel if a
      // value's expected GHASH were folded into the next value's first block instead of a block of its own.
      ['the same bits of the 3rd value\'s tag and of the 4th value\'s first ciphertext block', (v: Buffer[]) => {
        v[2]![v[2]!.length - 16]! ^= 0x5a;
        v[3]![CIPHERTEXT_AT]! ^= 0x5a;
      }, 2],
    ])('refuses %s, at that value, with the values before it opened', (_what, alter, at) => {
      const { e, values } = oneKey();
      alter(values);
      const { opened, failure } = e.opener().open(batchOf(values));
      expect(failure).toEqual({ offset: at, reason: expect.stringContaining('failed authentication') as unknown });
      expect(opened?.count ?? 0).toBe(at);
    });

    it('opens values moved between entries: a value is not bound to its offset (nor in Go), each is checked on its own', () => {
      const { e, values } = oneKey();
      [values[5], values[6]] = [values[6]!, values[5]!];
      const { opened, failure } = e.opener().open(batchOf(values));
      expect(failure).toBeNull();
      expect(decodeOpened(opened!.bytes)[5]!.value!.toString()).toBe('value number 6 '.repeat(2));
    });
  });

  it('a value too short for the layout is not sealed', () => {
    const { opened, failure } = encryption(GO_KEY_32).opener().open(batchOf([Buffer.from('plain text stored in clear')]));
    expect(opened).toBeNull();
    expect(failure!.reason).toMatch(/^it is not a sealed value \(26 bytes/);
    expect(encryption(GO_KEY_32).opener().open(batchOf([Buffer.alloc(0)])).failure!.reason).toMatch(/not a sealed value \(0 bytes/);
  });

  it('without a usable master key: sealing throws and opening fails, naming the variable', () => {
    for (const key of [null, 'twenty-bytes-secret!']) {
      const e = encryption(key);
      expect(e.unavailableReason).toContain('LIFTBRIDGE_ENCRYPTION_KEY');
      expect(() => e.sealer().seal([record(Buffer.from('x'))])).toThrow(ValueSealingError);
      expect(e.opener().open(sealedBatch(GO_KEY_32, 1)).failure!.reason).toContain('LIFTBRIDGE_ENCRYPTION_KEY');
    }
  });
});

describe('the master key', () => {
  it('is 16 or 32 bytes; anything else is refused with Go\'s "invalid AES key size", naming the variable and the length only', () => {
    expect(masterKeyProblem(MasterKey.fromString(GO_KEY_16))).toBeNull();
    expect(masterKeyProblem(MasterKey.fromString(GO_KEY_32))).toBeNull();
    expect(masterKeyProblem(null)).toBe('invalid AES key size; want 16 or 32, got 0 (LIFTBRIDGE_ENCRYPTION_KEY is not set)');
    const secret = 'something-in-correct';
    expect(masterKeyProblem(MasterKey.fromString(secret))).toBe('invalid AES key size; want 16 or 32, got 20 (LIFTBRIDGE_ENCRYPTION_KEY is 20 bytes long)');
    expect(MasterKey.fromEnv({ LIFTBRIDGE_ENCRYPTION_KEY: '' })).toBeNull();
    expect(MasterKey.fromEnv({ LIFTBRIDGE_ENCRYPTION_KEY: 'ключ' })!.byteLength).toBe(8); // the string's UTF-8 bytes
  });

  it('never prints: JSON, util.inspect, string conversion and objects holding it show a placeholder', () => {
    const key = MasterKey.fromString(GO_KEY_32);
    const holder = { streams: { encryption: true, encryptionKey: key }, encryption: new AesValueEncryption(key) };
    for (const printed of [JSON.stringify(holder), inspect(holder, { depth: 10, showHidden: true }), `${key}`, String(key), inspect(holder.encryption.sealer(), { showHidden: true })]) {
      expect(printed).not.toContain(GO_KEY_32);
      expect(printed).not.toContain(Buffer.from(GO_KEY_32).toString('hex'));
    }
    expect(JSON.stringify(holder)).toContain('[redacted master key]');
  });
});
