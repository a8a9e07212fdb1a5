import { crc32c } from '@node-rs/crc32';
import { apiProtoRoot, decodeMessage } from '../../../../src/protocol/api-proto';
import { MessageEntryCorruptError } from '../../../../src/protocol/codec-errors';
import {
  MESSAGE_SET_ENTRY_HEADER_BYTES,
  SubscribeMessageEncoder,
  encodeSubscribeBatch,
  encodeSubscribeMessage,
  messageSetEntryEnd,
} from '../../../../src/adapters/codec/subscribe-message-codec';

// ---------------------------------------------------------------------------------------------
// A tiny, independent builder of message-set entries (docs/storage.md "Message-set entry", "Encoded message"); deliberately not
// message-set.ts, so that this test pins the format rather than another implementation.

interface EntrySpec {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly leaderEpoch?: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: ReadonlyArray<readonly [string, Buffer | null]>;
}

function buildEntry(spec: EntrySpec): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 0])]; // magic 1, attributes 0
  const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
  const int16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
  const nullable = (bytes: Buffer | null): void => { parts.push(int32(bytes ? bytes.length : -1)); if (bytes) parts.push(bytes); };
  nullable(spec.key);
  nullable(spec.value);
  const headers = spec.headers ?? [];
  parts.push(int16(headers.length));
  for (const [name, value] of headers) {
    parts.push(int16(Buffer.byteLength(name)), Buffer.from(name));
    nullable(value);
  }
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(body) >>> 0);
  const message = Buffer.concat([crc, body]);
  const header = Buffer.alloc(MESSAGE_SET_ENTRY_HEADER_BYTES);
  header.writeBigInt64BE(spec.offset, 0);
  header.writeBigInt64BE(spec.timestamp, 8);
  header.writeBigUInt64BE(spec.leaderEpoch ?? 1n, 16);
  header.writeUInt32BE(message.length, 24);
  return Buffer.concat([header, message]);
}

/** Decodes with protobufjs (the oracle) into plain values. */
function oracleDecode(bytes: Buffer): Record<string, unknown> {
  const type = apiProtoRoot().lookupType('proto.Message');
  return type.toObject(type.decode(bytes), { longs: String, defaults: true, bytes: String }) as Record<string, unknown>;
}

const NS = 1700000000123456789n;

describe('encodeSubscribeMessage (stored entry → proto.Message bytes)', () => {
  it('matches the documented example size: null key, 4-byte value, no headers = 48-byte entry', () => {
    expect(buildEntry({ offset: 0n, timestamp: 0n, key: null, value: Buffer.from('blah') })).toHaveLength(48);
  });

  it('encodes every field, taking subject and replySubject from the stored headers', () => {
    const entry = buildEntry({
      offset: 42n, timestamp: NS, key: Buffer.from('k'), value: Buffer.from('value'),
      headers: [['subject', Buffer.from('orders.1')], ['reply', Buffer.from('_INBOX.x')], ['user', Buffer.from([0, 1, 2])]],
    });
    const bytes = encodeSubscribeMessage(entry, 0, 'orders', 1);
    expect(oracleDecode(bytes)).toEqual({
      offset: '42', key: Buffer.from('k').toString('base64'), value: Buffer.from('value').toString('base64'),
      timestamp: NS.toString(), stream: 'orders', partition: 1, subject: 'orders.1', replySubject: '_INBOX.x',
      headers: {
        subject: Buffer.from('orders.1').toString('base64'),
        reply: Buffer.from('_INBOX.x').toString('base64'),
        user: Buffer.from([0, 1, 2]).toString('base64'),
      },
      ackInbox: '', correlationId: '', ackPolicy: 0,
    });
    // Our own decoder agrees, with bigint precision.
    const decoded = decodeMessage(bytes);
    expect(decoded.timestamp).toBe(NS);
    expect(decoded.offset).toBe(42n);
  });

  it('writes canonical proto3: null/empty key and value, offset 0, partition 0 and empty reply are omitted', () => {
    const entry = buildEntry({
      offset: 0n, timestamp: 0n, key: null, value: Buffer.alloc(0), headers: [['reply', Buffer.alloc(0)], ['n', null]],
    });
    const bytes = encodeSubscribeMessage(entry, 0, 's', 0);
    // stream "s" (0a... is field 1; stream is field 5 = 0x2a) then two map entries (0x4a).
    expect(bytes.toString('hex')).toBe('2a0173' + '4a090a057265706c791200' + '4a050a016e1200');
    const decoded = decodeMessage(bytes);
    expect(decoded).toMatchObject({ offset: 0n, partition: 0, replySubject: '', key: Buffer.alloc(0), value: Buffer.alloc(0) });
    expect({ ...decoded.headers }).toEqual({ reply: Buffer.alloc(0), n: Buffer.alloc(0) });
  });

  it('handles large offsets, multi-byte stream names and an entry in the middle of a buffer', () => {
    const entry = buildEntry({ offset: 2n ** 62n, timestamp: NS, key: Buffer.from('k'), value: null });
    const padded = Buffer.concat([Buffer.from('junk'), entry, Buffer.from('more')]);
    const decoded = decodeMessage(encodeSubscribeMessage(padded, 4, 'strömé', 2 ** 31 - 1));
    expect(decoded).toMatchObject({ offset: 2n ** 62n, timestamp: NS, stream: 'strömé', partition: 2 ** 31 - 1 });
    expect(messageSetEntryEnd(padded, 4)).toBe(4 + entry.length);
  });

  it('encodes consecutive entries in a batch', () => {
    const entries = Buffer.concat([
      buildEntry({ offset: 10n, timestamp: NS, key: null, value: Buffer.from('a') }),
      buildEntry({ offset: 11n, timestamp: NS + 1n, key: Buffer.from('k'), value: Buffer.from('bb'), headers: [['subject', Buffer.from('x')]] }),
      buildEntry({ offset: 12n, timestamp: NS + 2n, key: null, value: Buffer.from('ccc') }),
    ]);
    const batch = encodeSubscribeBatch(entries, 3, 'foo', 0);
    expect(batch.map((b) => decodeMessage(b)).map((m) => [m.offset, m.value.toString(), m.subject]))
      .toEqual([[10n, 'a', ''], [11n, 'bb', 'x'], [12n, 'ccc', '']]);
    const encoder = new SubscribeMessageEncoder('foo', 0);
    expect(encoder.encodeBatch(entries, 2, messageSetEntryEnd(entries, 0)).map((b) => decodeMessage(b).offset)).toEqual([11n, 12n]);
    expect(encoder.encodeBatch(entries, 0)).toEqual([]);
    expect(() => encoder.encodeBatch(entries, 4)).toThrow(MessageEntryCorruptError);
  });

  it('encodes a batch as gRPC length-prefixed frames: the same messages, each behind flag 0 and its length', () => {
    const entries = Buffer.concat([
      buildEntry({ offset: 0n, timestamp: 0n, key: null, value: null }),
      buildEntry({ offset: 11n, timestamp: NS + 1n, key: Buffer.from('k'), value: Buffer.alloc(300, 7), headers: [['subject', Buffer.from('x')], ['reply', null]] }),
      buildEntry({ offset: 2n ** 62n, timestamp: NS + 2n, key: null, value: Buffer.from('ccc') }),
    ]);
    const encoder = new SubscribeMessageEncoder('foo', 3);
    const messages = encoder.encodeBatch(entries, 3);
    const frames = encoder.encodeFrames(entries, 3);
    const expected = Buffer.concat(messages.flatMap((m) => { const prefix = Buffer.alloc(5); prefix.writeUInt32BE(m.length, 1); return [prefix, m]; }));
    expect(frames.equals(expected)).toBe(true);
    expect(encoder.encodeFrames(entries, 2, messageSetEntryEnd(entries, 0)).equals(expected.subarray(5 + messages[0]!.length))).toBe(true);
    expect(encoder.encodeFrames(entries, 0).length).toBe(0);
    expect(() => encoder.encodeFrames(entries, 4)).toThrow(MessageEntryCorruptError);
  });

  describe('corrupt entries throw MessageEntryCorruptError', () => {
    const good = buildEntry({ offset: 1n, timestamp: 1n, key: Buffer.from('key'), value: Buffer.from('value'), headers: [['h', Buffer.from('v')]] });
    const corrupt = (mutate: (b: Buffer) => void): Buffer => { const b = Buffer.from(good); mutate(b); return b; };
    const encoder = new SubscribeMessageEncoder('s', 0);
    const keyLenAt = 28 + 6;

    it.each([
      ['a truncated entry header', good.subarray(0, 20)],
      ['a size past the end', corrupt((b) => b.writeUInt32BE(0xffffffff, 24))],
      ['a message shorter than its fixed fields', corrupt((b) => b.writeUInt32BE(6, 24))],
      ['a key length past the message', corrupt((b) => b.writeInt32BE(1000, keyLenAt))],
      ['a negative key length below -1', corrupt((b) => b.writeInt32BE(-2, keyLenAt))],
      ['a value length past the message', corrupt((b) => b.writeInt32BE(2 ** 31 - 1, keyLenAt + 4 + 3))],
      ['a negative header count', corrupt((b) => b.writeInt16BE(-1, keyLenAt + 4 + 3 + 4 + 5))],
      ['a header count larger than the headers', corrupt((b) => b.writeInt16BE(5, keyLenAt + 4 + 3 + 4 + 5))],
      ['a header name length past the message', corrupt((b) => b.writeInt16BE(500, keyLenAt + 4 + 3 + 4 + 5 + 2))],
      ['a header value length below -1', corrupt((b) => b.writeInt32BE(-7, keyLenAt + 4 + 3 + 4 + 5 + 2 + 2 + 1))],
    ])('%s', (_name, entry) => {
      expect(() => encoder.encode(entry, 0)).toThrow(MessageEntryCorruptError);
    });

    it('an entry start outside the buffer', () => {
      expect(() => encoder.encode(good, -1)).toThrow(MessageEntryCorruptError);
      expect(() => encoder.encode(good, good.length)).toThrow(MessageEntryCorruptError);
      expect(() => encoder.encode(good, 0.5)).toThrow(MessageEntryCorruptError);
    });
  });
});
