import { installNatsLargeMessageBuffer } from '../../../../src/adapters/outbound/nats/nats-large-message-buffer';

// The parser the NATS client uses, fed socket reads by hand (what the patch changes).
const { Parser, Kind } = require('nats/lib/nats-base-client/parser') as {
  Parser: new (dispatcher: { push(event: { kind: number; msg?: unknown; data?: Uint8Array }): void }) => { parse(buf: Uint8Array): void };
  Kind: { MSG: number };
};

const MSG_KIND = Kind.MSG;

function frame(subject: string, payload: Buffer, headers?: Buffer): Buffer {
  const line = headers
    ? `HMSG ${subject} 1 ${headers.length} ${headers.length + payload.length}\r\n`
    : `MSG ${subject} 1 ${payload.length}\r\n`;
  return Buffer.concat([Buffer.from(line), headers ?? Buffer.alloc(0), payload, Buffer.from('\r\n')]);
}

/** Parses `wire` delivered in reads of `readBytes`, returning the data of every message. */
function parseInReads(wire: Buffer, readBytes: number): Buffer[] {
  const messages: Buffer[] = [];
  const parser = new Parser({ push: (e) => void (e.kind === MSG_KIND && e.data && messages.push(Buffer.from(e.data))) });
  for (let at = 0; at < wire.length; at += readBytes) parser.parse(wire.subarray(at, Math.min(wire.length, at + readBytes)));
  return messages;
}

const patterned = (length: number, seed: number): Buffer => {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

describe('NATS large-message buffer', () => {
  beforeAll(() => expect(installNatsLargeMessageBuffer()).toBe(true));

  it('is installed for the pinned client version, once', () => {
    expect(installNatsLargeMessageBuffer()).toBe(true);
  });

  it.each([1, 7, 1000, 65_536, 300_000])('delivers messages split across reads of %d bytes byte for byte', (readBytes) => {
    const big = patterned(1_048_576 + 13, 1);
    const small = patterned(100, 2);
    const withHeaders = patterned(200_000, 3);
    const headers = Buffer.from('NATS/1.0\r\nA: b\r\n\r\n');
    const wire = Buffer.concat([frame('a', big), frame('b', small), frame('c', withHeaders, headers), frame('d', Buffer.alloc(0)), frame('e', big)]);
    const got = parseInReads(wire, readBytes);
    expect(got.map((m) => m.length)).toEqual([big.length, small.length, headers.length + withHeaders.length, 0, big.length]);
    expect(got[0]!.equals(big)).toBe(true);
    expect(got[1]!.equals(small)).toBe(true);
    expect(got[2]!.equals(Buffer.concat([headers, withHeaders]))).toBe(true);
    expect(got[4]!.equals(big)).toBe(true);
  });

  it('gathers a split message in one buffer of exactly its size', () => {
    const payload = patterned(1_000_000, 5);
    const delivered: Uint8Array[] = [];
    const parser = new Parser({ push: (e) => void (e.kind === MSG_KIND && e.data && delivered.push(e.data)) });
    const wire = frame('y', payload);
    for (let at = 0; at < wire.length; at += 65_536) parser.parse(wire.subarray(at, at + 65_536));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.byteLength).toBe(payload.length);
    expect(delivered[0]!.buffer.byteLength).toBe(payload.length); // unpatched: a doubled, larger buffer
  });

  it('delivers a message whose read ends exactly at the end of its payload', () => {
    const payload = patterned(5000, 4);
    const wire = frame('x', payload);
    const cut = wire.length - 2; // before the trailing CRLF
    const messages: Buffer[] = [];
    const parser = new Parser({ push: (e) => void (e.kind === MSG_KIND && e.data && messages.push(Buffer.from(e.data))) });
    parser.parse(wire.subarray(0, 20));
    parser.parse(wire.subarray(20, cut));
    parser.parse(wire.subarray(cut));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.equals(payload)).toBe(true);
  });
});
