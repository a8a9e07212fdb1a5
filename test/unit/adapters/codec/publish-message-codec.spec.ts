import { AckPolicy, apiProtoRoot, decodeMessage } from '../../../../src/protocol/api-proto';
import { ProtobufDecodeError } from '../../../../src/protocol/codec-errors';
import { MsgType, parseEnvelope, unwrapEnvelope } from '../../../../src/protocol/envelope';
import { decodePublishMessage, encodePublishEnvelope, RepeatedUtf8Decoder } from '../../../../src/protocol/publish-message-codec';

/** protobufjs is the oracle: it encodes the inputs and decodes our outputs. */
const MessageType = () => apiProtoRoot().lookupType('proto.Message');
const oracleEncode = (value: Record<string, unknown>): Buffer =>
  Buffer.from(MessageType().encode(MessageType().fromObject(value)).finish());

const decodeAll = (buf: Buffer) => decodePublishMessage(buf, 0, buf.length);

describe('decodePublishMessage (payload of a MsgType-0 envelope)', () => {
  it('reads every field a producer sets and skips the ones ingest ignores', () => {
    const bytes = oracleEncode({
      offset: '-1', key: Buffer.from('k'), value: Buffer.from('v'), timestamp: '1700000000123456789',
      stream: 's', partition: 3, subject: 'foo', replySubject: 'r', headers: { a: Buffer.from('1'), b: Buffer.alloc(0) },
      ackInbox: 'inbox', correlationId: 'cid', ackPolicy: AckPolicy.ALL,
    });
    const m = decodeAll(bytes);
    expect(m).toEqual({
      expectedOffset: -1, hasExpectedOffset: true, key: Buffer.from('k'), value: Buffer.from('v'),
      headers: expect.anything(), ackInbox: 'inbox', correlationId: 'cid', ackPolicy: AckPolicy.ALL,
    });
    expect({ ...m.headers }).toEqual({ a: Buffer.from('1'), b: Buffer.alloc(0) });
  });

  it('reports absent fields as null / 0 / "" and tells absent from empty', () => {
    expect(decodeAll(Buffer.alloc(0))).toEqual({
      expectedOffset: 0, hasExpectedOffset: false, key: null, value: null, headers: null,
      ackInbox: '', correlationId: '', ackPolicy: 0,
    });
    const m = decodeAll(oracleEncode({ key: Buffer.alloc(0), value: Buffer.alloc(0), offset: 0 }));
    expect(m.key).toEqual(Buffer.alloc(0));
    expect(m.value).toEqual(Buffer.alloc(0));
    expect(m.hasExpectedOffset).toBe(true);
    expect(m.expectedOffset).toBe(0);
  });

  it('returns views into the input (no copies) and honours start/end', () => {
    const envelope = encodePublishEnvelope({ value: Buffer.from('payload'), expectedOffset: 12 });
    const parsed = parseEnvelope(envelope, MsgType.Publish);
    if (parsed.kind !== 'ok') throw new Error('expected an envelope');
    const m = decodePublishMessage(envelope, parsed.payloadStart, parsed.payloadEnd);
    expect(m.value?.buffer).toBe(envelope.buffer);
    expect(m.expectedOffset).toBe(12);
  });

  it('keeps the last of duplicate headers, defaults a missing map value, and keeps a "__proto__" header', () => {
    const entry = (name: string, value?: string): Buffer => {
      const body = [0x0a, name.length, ...Buffer.from(name)];
      if (value !== undefined) body.push(0x12, value.length, ...Buffer.from(value));
      return Buffer.from([0x4a, body.length, ...body]);
    };
    const m = decodeAll(Buffer.concat([entry('a', 'x'), entry('a', 'y'), entry('n'), entry('__proto__', 'p')]));
    expect(m.headers!['a']).toEqual(Buffer.from('y'));
    expect(m.headers!['n']).toEqual(Buffer.alloc(0));
    expect(Object.keys(m.headers!)).toEqual(['a', 'n', '__proto__']);
    expect(Object.getPrototypeOf(m.headers)).toBeNull();
  });

  it('treats an out-of-range enum as a number, and skips unknown fields and groups', () => {
    const unknown = [0xa8, 0x1f, 0x01, 0xb3, 0x1f, 0x08, 0x01, 0xb4, 0x1f]; // field 501 varint; group 502 { 1: 1 }
    const m = decodeAll(Buffer.concat([oracleEncode({ ackPolicy: 99 }), Buffer.from(unknown)]));
    expect(m.ackPolicy).toBe(99);
  });

  describe('garbage', () => {
    const rejects = (bytes: number[] | Buffer, pattern?: RegExp): void => {
      const buf = Buffer.from(bytes);
      expect(() => decodeAll(buf)).toThrow(ProtobufDecodeError);
      if (pattern) expect(() => decodeAll(buf)).toThrow(pattern);
    };

    it('rejects truncated varints and lengths past the end', () => {
      rejects([0x08], /truncated varint/);
      rejects([0x08, 0xff, 0xff], /truncated varint/);
      rejects([0x1a, 0x05, 0x61], /past the end/);
      rejects([0x1a]);
      rejects([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 10 bytes/);
    });

    it('rejects a 2^31 or 2^35 length prefix without allocating', () => {
      rejects([0x1a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00], /past the end/);
      rejects([0x1a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], /past the end/);
    });

    it('rejects a wrong wire type on a known field', () => {
      rejects([0x0a, 0x00], /wire type 2, expected 0/); // offset as bytes
      rejects([0x10, 0x01], /wire type 0, expected 2/); // key as varint
      rejects([0x4d, 0, 0, 0, 0]); // headers as fixed32
      rejects([0x65, 0, 0, 0, 0]); // ackPolicy as fixed32
    });

    it('rejects invalid keys, wire types 6/7, stray or unterminated groups, and deep nesting', () => {
      rejects([0x00, 0x01], /invalid field key/);
      rejects([0xfe, 0x01]);
      rejects([0xff, 0x01]);
      rejects([0xb4, 0x1f], /unexpected wire type 4/);
      rejects([0xb3, 0x1f, 0x08, 0x01], /unterminated group/);
      rejects([0xb3, 0x1f, 0xbc, 0x1f], /mismatched end group/);
      rejects(Buffer.from(Array.from({ length: 40 }, () => [0xb3, 0x1f]).flat()), /nested too deeply/);
    });

    it('rejects malformed header entries', () => {
      rejects([0x4a, 0x02, 0x0a, 0x05], /past the end/);
      rejects([0x4a, 0x02, 0x10, 0x01], /expected 2/);
    });

    it('rejects an expected offset outside the safe integer range', () => {
      rejects(oracleEncode({ offset: (2n ** 60n).toString() }), /safe integer/);
    });

    it('rejects an invalid range', () => {
      const buf = Buffer.alloc(4);
      expect(() => decodePublishMessage(buf, 2, 1)).toThrow(ProtobufDecodeError);
      expect(() => decodePublishMessage(buf, 0, 5)).toThrow(ProtobufDecodeError);
      expect(() => decodePublishMessage(buf, -1, 2)).toThrow(ProtobufDecodeError);
    });
  });
});

describe('RepeatedUtf8Decoder (ack inboxes decoded once per producer)', () => {
  it('returns the same string object while the bytes repeat, and decodes anew when they change', () => {
    const decoder = new RepeatedUtf8Decoder();
    const a1 = Buffer.from('xx_INBOX.abcxx');
    const a2 = Buffer.from('__INBOX.abc');
    const first = decoder.decode(a1, 2, 12);
    expect(first).toBe('_INBOX.abc');
    expect(decoder.decode(a2, 1, 11)).toBe(first);
    expect(decoder.decode(Buffer.from('_INBOX.abd'), 0, 10)).toBe('_INBOX.abd'); // same length, last byte differs
    expect(decoder.decode(Buffer.from('_INBOX.ab'), 0, 9)).toBe('_INBOX.ab');
    expect(decoder.decode(Buffer.from('ïnböx'), 0, Buffer.byteLength('ïnböx'))).toBe('ïnböx');
    expect(decoder.decode(Buffer.alloc(0), 0, 0)).toBe('');
  });

  it('does not keep a view of the input: changing the input afterwards does not fool it', () => {
    const decoder = new RepeatedUtf8Decoder();
    const input = Buffer.from('inbox.1');
    expect(decoder.decode(input, 0, 7)).toBe('inbox.1');
    input.write('2', 6);
    expect(decoder.decode(input, 0, 7)).toBe('inbox.2');
  });

  it('gives decodePublishMessage the same ack inbox as the plain decode', () => {
    const envelope = encodePublishEnvelope({ value: Buffer.from('v'), ackInbox: 'acks.ï', correlationId: 'c', expectedOffset: -1 });
    const parsed = parseEnvelope(envelope, MsgType.Publish);
    if (parsed.kind !== 'ok') throw new Error('not an envelope');
    const decoder = new RepeatedUtf8Decoder();
    for (let i = 0; i < 2; i++) {
      expect(decodePublishMessage(envelope, parsed.payloadStart, parsed.payloadEnd, decoder)).toEqual(decodePublishMessage(envelope, parsed.payloadStart, parsed.payloadEnd));
    }
  });
});

describe('encodePublishEnvelope (server-side Publish RPCs)', () => {
  it('encodes what protobufjs decodes back, inside a MsgType-0 envelope', () => {
    const envelope = encodePublishEnvelope({
      key: Buffer.from('key'), value: Buffer.from('value'), headers: { h1: Buffer.from('v1'), 'ünï': Buffer.from([0, 255]) },
      ackInbox: 'liftbridge-default.ack.x', correlationId: 'corr', ackPolicy: AckPolicy.NONE, expectedOffset: -1n,
      stream: 'orders', subject: 'orders.1',
    });
    const decoded = decodeMessage(unwrapEnvelope(envelope, MsgType.Publish));
    expect(decoded).toMatchObject({
      offset: -1n, key: Buffer.from('key'), value: Buffer.from('value'), stream: 'orders', subject: 'orders.1',
      ackInbox: 'liftbridge-default.ack.x', correlationId: 'corr', ackPolicy: AckPolicy.NONE,
      timestamp: 0n, partition: 0, replySubject: '',
    });
    expect({ ...decoded.headers }).toEqual({ h1: Buffer.from('v1'), 'ünï': Buffer.from([0, 255]) });
  });

  it('round-trips through decodePublishMessage, keeping an empty key distinct from none', () => {
    const envelope = encodePublishEnvelope({ key: Buffer.alloc(0), value: null, expectedOffset: 2 ** 40, ackPolicy: -3 });
    const m = decodePublishMessage(envelope, 8, envelope.length);
    expect(m).toMatchObject({ key: Buffer.alloc(0), value: null, expectedOffset: 2 ** 40, ackPolicy: -3, headers: null });
  });

  it('writes golden bytes for a minimal message (expected offset 0 omitted, as proto3 requires)', () => {
    expect(encodePublishEnvelope({ value: Buffer.from('hi') }).toString('hex')).toBe('b90e43b400080000' + '1a026869');
    expect(encodePublishEnvelope({ value: Buffer.from('hi'), expectedOffset: -1 }).toString('hex'))
      .toBe('b90e43b400080000' + '08ffffffffffffffffff01' + '1a026869');
  });

  it('refuses values it cannot encode', () => {
    expect(() => encodePublishEnvelope({ expectedOffset: 2 ** 60 })).toThrow(RangeError);
    expect(() => encodePublishEnvelope({ expectedOffset: 2n ** 63n })).toThrow(RangeError);
    expect(() => encodePublishEnvelope({ ackPolicy: 2 ** 31 })).toThrow(/int32/);
    expect(() => encodePublishEnvelope({ headers: { h: 'x' as unknown as Uint8Array } })).toThrow(/Uint8Array/);
  });
});
