import {
  decodeEntry,
  decodeMessageSet,
  ENTRY_HEADER_BYTES,
  encodeEntries,
  encodeNewRecords,
  MESSAGE_MIN_BYTES,
  messageLayoutFits,
  scanMessageSet,
} from '../../../../src/adapters/codec/message-set';
import { MessageEntryCorruptError } from '../../../../src/protocol/codec-errors';

/** Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78): an independent reference for the fixtures. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// The example of docs/storage.md "Encoded message": null key, 4-byte value, no headers = 20-byte message, 48-byte entry.
const NULL_KEY_ENTRY = [
  '0000000000000000', // offset 0
  '17979cfe362a0000', // timestamp 1_700_000_000_000_000_000 ns
  '000000000000002a', // leader epoch 42
  '00000014', // size 20
  '7a19b96a', // CRC-32C of what follows
  '01', // magic
  '00', // attributes
  'ffffffff', // key length -1 (null)
  '00000004', // value length 4
  '626c6168', // "blah"
  '0000', // header count 0
].join('');

// A leader record: key "k", empty value, user header foo=bar, subject "a.b", empty reply.
const LEADER_ENTRY = [
  '0000000000000005', // offset 5
  '0000000000000007', // timestamp 7
  '0000000000000003', // leader epoch 3
  '00000038', // size 56
  'f0b22bf7', // CRC
  '0100',
  '00000001' + '6b', // key "k"
  '00000000', // empty value (not null)
  '0003', // three headers: user first, then the server headers
  '0003' + '666f6f' + '00000003' + '626172', // foo = bar
  '0007' + '7375626a656374' + '00000003' + '612e62', // subject = a.b
  '0005' + '7265706c79' + '00000000', // reply = ""
].join('');

describe('message-set codec', () => {
  it('encodes the documented example byte for byte', () => {
    const bytes = encodeEntries([{ offset: 0, timestampNs: 1_700_000_000_000_000_000n, leaderEpoch: 42, key: null, value: Buffer.from('blah'), headers: null }]);
    expect(bytes.toString('hex')).toBe(NULL_KEY_ENTRY);
    expect(bytes.length).toBe(48);
    expect(bytes.length - ENTRY_HEADER_BYTES).toBe(20);
    expect(MESSAGE_MIN_BYTES + 4).toBe(20);
  });

  it('encodes a leader record with user and server headers byte for byte', () => {
    const bytes = encodeNewRecords([{ key: Buffer.from('k'), value: Buffer.alloc(0), headers: { foo: Buffer.from('bar') }, subject: 'a.b', reply: '' }], 5, 7n, 3);
    expect(bytes.toString('hex')).toBe(LEADER_ENTRY);
  });

  it('checksums with CRC-32C over everything after the CRC field', () => {
    expect(referenceCrc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the standard check value
    for (const hex of [NULL_KEY_ENTRY, LEADER_ENTRY]) {
      const bytes = Buffer.from(hex, 'hex');
      expect(bytes.readUInt32BE(28)).toBe(referenceCrc32c(bytes.subarray(32)));
    }
  });

  it('decodes the fixtures', () => {
    const a = decodeEntry(Buffer.from(NULL_KEY_ENTRY, 'hex'));
    expect(a).toEqual({ offset: 0, timestampNs: 1_700_000_000_000_000_000n, leaderEpoch: 42, key: null, value: Buffer.from('blah'), headers: {}, entryBytes: 48 });
    const b = decodeEntry(Buffer.from(LEADER_ENTRY, 'hex'));
    expect(b.key).toEqual(Buffer.from('k'));
    expect(b.value).toEqual(Buffer.alloc(0));
    expect(b.headers).toEqual({ foo: Buffer.from('bar'), subject: Buffer.from('a.b'), reply: Buffer.alloc(0) });
  });

  it('drops user headers named subject/reply and always writes the server ones', () => {
    const [entry] = decodeMessageSet(
      encodeNewRecords([{ key: null, value: null, headers: { subject: Buffer.from('x'), reply: Buffer.from('y'), z: Buffer.from('1') }, subject: 's', reply: 'r' }], 0, 0n, 0),
    );
    expect(entry!.headers).toEqual({ z: Buffer.from('1'), subject: Buffer.from('s'), reply: Buffer.from('r') });
    expect(entry!.value).toBeNull();
  });

  it('encodes a batch with consecutive offsets, one timestamp and epoch, UTF-8 names', () => {
    const records = ['α', 'β', 'γ'].map((v) => ({ key: null, value: Buffer.from(v), headers: { 'ключ': Buffer.from(v) }, subject: 'über', reply: '' }));
    const bytes = encodeNewRecords(records, 1_000_000_000_000, 123n, 2 ** 40);
    const entries = decodeMessageSet(bytes);
    expect(entries.map((e) => e.offset)).toEqual([1_000_000_000_000, 1_000_000_000_001, 1_000_000_000_002]);
    expect(entries.every((e) => e.timestampNs === 123n && e.leaderEpoch === 2 ** 40)).toBe(true);
    expect(entries.map((e) => e.headers['ключ']!.toString())).toEqual(['α', 'β', 'γ']);
    expect(entries[0]!.headers['subject']!.toString()).toBe('über');
  });

  describe('scanMessageSet', () => {
    const three = encodeNewRecords([0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`v${i}`), headers: null, subject: 's', reply: '' })), 10, 1n, 1);
    const size = three.length / 3;

    it('walks valid entries and reports offsets, positions and sizes', () => {
      const seen: number[][] = [];
      const scan = scanMessageSet(three, 10, { visit: (o, p, b) => seen.push([o, p, b]) });
      expect(scan).toEqual({ validBytes: three.length, count: 3, firstOffset: 10, lastOffset: 12, defect: null });
      expect(seen).toEqual([[10, 0, size], [11, size, size], [12, 2 * size, size]]);
      expect(scanMessageSet(three, -1).firstOffset).toBe(10);
    });

    it.each([
      ['truncated-header', (b: Buffer) => b.subarray(0, 2 * size + 10)],
      ['truncated-message', (b: Buffer) => b.subarray(0, 3 * size - 1)],
      ['bad-crc', (b: Buffer) => flip(b, 2 * size + 40)],
      ['bad-size', (b: Buffer) => write32(b, 2 * size + 24, 0x7fffffff)],
      ['bad-size', (b: Buffer) => write32(b, 2 * size + 24, 3)],
      ['bad-offset', (b: Buffer) => write32(b, 2 * size + 4, 99)],
      ['bad-offset', (b: Buffer) => write32(b, 2 * size, 0x80000000)],
      ['bad-epoch', (b: Buffer) => write32(b, 2 * size + 16, 0xffffffff)],
    ])('stops at the first defect: %s', (defect, damage) => {
      const scan = scanMessageSet(damage(Buffer.from(three)), 10);
      expect(scan).toEqual({ validBytes: 2 * size, count: 2, firstOffset: 10, lastOffset: 11, defect });
    });

    it('rejects a zero-filled tail and an unexpected first offset', () => {
      expect(scanMessageSet(Buffer.concat([three, Buffer.alloc(100)]), 10).defect).toBe('bad-offset');
      expect(scanMessageSet(Buffer.concat([three, Buffer.alloc(100)]), 10).validBytes).toBe(three.length);
      expect(scanMessageSet(Buffer.alloc(100), 0).defect).toBe('bad-size');
      expect(scanMessageSet(three, 11)).toEqual({ validBytes: 0, count: 0, firstOffset: -1, lastOffset: -1, defect: 'bad-offset' });
    });

    it('rejects a message whose CRC is right but whose lengths do not add up', () => {
      const bytes = Buffer.from(NULL_KEY_ENTRY, 'hex');
      bytes.writeInt32BE(5, 38); // value length 5 in a 4-byte value
      expect(messageLayoutFits(bytes, 28, 48)).toBe(false);
      const { crc32c } = jest.requireActual<typeof import('@node-rs/crc32')>('@node-rs/crc32');
      bytes.writeUInt32BE(crc32c(bytes.subarray(32)), 28);
      expect(scanMessageSet(bytes, 0).defect).toBe('bad-layout');
      expect(() => decodeEntry(bytes)).toThrow(MessageEntryCorruptError);
    });

    it('never reads past the end for any truncation of a valid set', () => {
      for (let cut = 0; cut < three.length; cut++) {
        const scan = scanMessageSet(three.subarray(0, cut), 10);
        expect(scan.validBytes).toBe(Math.floor(cut / size) * size);
        const within = cut % size;
        expect(scan.defect).toBe(within === 0 ? null : within < ENTRY_HEADER_BYTES ? 'truncated-header' : 'truncated-message');
      }
    });
  });
});

function flip(b: Buffer, at: number): Buffer {
  b[at] ^= 0x10;
  return b;
}

function write32(b: Buffer, at: number, value: number): Buffer {
  b.writeUInt32BE(value, at);
  return b;
}
