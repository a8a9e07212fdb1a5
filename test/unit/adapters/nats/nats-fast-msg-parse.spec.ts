import { installNatsFastMsgParse } from '../../../../src/adapters/outbound/nats/nats-fast-msg-parse';
import { installNatsLargeMessageBuffer } from '../../../../src/adapters/outbound/nats/nats-large-message-buffer';

interface Event { kind: number; msg?: { subject: Uint8Array; reply?: Uint8Array; sid: number; size: number; hdr: number }; data?: Uint8Array }
type ParserClass = new (dispatcher: { push(event: Event): void }) => { parse(buf: Uint8Array): void; state: number };

// The client's parser, as it is before and after the patches (this file has its own module registry).
const { Parser, State } = require('nats/lib/nats-base-client/parser') as { Parser: ParserClass & { prototype: { parse(buf: Uint8Array): void } }; State: Record<string, number> };
const originalParse = Parser.prototype.parse;

/** A comparable record of what the parser dispatched (copies: views may point into reused buffers). */
const describeEvent = (e: Event): string => {
  if (!e.msg) return `kind ${e.kind} ${e.data ? Buffer.from(e.data).toString('latin1') : ''}`;
  const m = e.msg;
  return `kind ${e.kind} ${Buffer.from(m.subject).toString('latin1')} sid ${m.sid} reply ${m.reply ? Buffer.from(m.reply).toString('latin1') : '-'} size ${m.size} hdr ${m.hdr} data ${Buffer.from(e.data!).toString('base64')}`;
};

function run(parse: (this: unknown, buf: Uint8Array) => void, chunks: readonly Buffer[]): { events: string[]; error: string | null; state: number } {
  const events: string[] = [];
  const parser = new Parser({ push: (e) => events.push(describeEvent(e)) });
  try {
    for (const chunk of chunks) parse.call(parser, chunk);
    return { events, error: null, state: parser.state };
  } catch (error) {
    return { events, error: (error as Error).message, state: parser.state };
  }
}

/** A deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFrame(random: () => number): Buffer {
  const pick = random();
  const size = random() < 0.1 ? 0 : Math.floor(random() * (random() < 0.2 ? 70_000 : 1_500));
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i += 97) payload[i] = Math.floor(random() * 256); // CR/LF bytes inside payloads too
  const subject = ['a', 'orders.in', 'x.y.z.1234567890', '123', 'M'][Math.floor(random() * 5)]!;
  const sid = Math.floor(random() * 100_000);
  if (pick < 0.55) return Buffer.concat([Buffer.from(`MSG ${subject} ${sid} ${size}\r\n`), payload, Buffer.from('\r\n')]);
  if (pick < 0.8) return Buffer.concat([Buffer.from(`MSG ${subject} ${sid} _INBOX.r${sid} ${size}\r\n`), payload, Buffer.from('\r\n')]);
  if (pick < 0.88) {
    const headers = Buffer.from('NATS/1.0\r\nk: v\r\n\r\n');
    return Buffer.concat([Buffer.from(`HMSG ${subject} ${sid} ${headers.length} ${headers.length + size}\r\n`), headers, payload, Buffer.from('\r\n')]);
  }
  return Buffer.from(['PING\r\n', 'PONG\r\n', '+OK\r\n', "-ERR 'Stale Connection'\r\n", 'INFO {"server_id":"x"}\r\n'][Math.floor(random() * 5)]!);
}

function randomCuts(random: () => number, wire: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length; ) {
    const length = 1 + Math.floor(random() < 0.3 ? random() * 64 : random() * 70_000);
    // Fresh buffers per read, as the socket gives them.
    chunks.push(Buffer.from(wire.subarray(at, at + length)));
    at += length;
  }
  return chunks;
}

describe('NATS fast MSG parse (differential against the client parser)', () => {
  beforeAll(() => {
    expect(installNatsLargeMessageBuffer()).toBe(true);
    expect(installNatsFastMsgParse()).toBe(true);
  });

  it('is installed for the pinned client version, once, on top of the pre-sizing patch', () => {
    expect(installNatsFastMsgParse()).toBe(true);
    expect(Parser.prototype.parse.name).toBe('fastMsgParse');
  });

  it.each(Array.from({ length: 150 }, (_, seed) => seed))('dispatches what the client parser dispatches on random streams cut at random points (seed %d)', (seed) => {
    const random = prng(seed);
    const frames = Array.from({ length: 20 + Math.floor(random() * 120) }, () => randomFrame(random));
    const chunks = randomCuts(random, Buffer.concat(frames));
    const expected = run(originalParse, chunks);
    const actual = run(Parser.prototype.parse, chunks);
    expect(expected.error).toBeNull();
    expect(actual).toEqual(expected);
  });

  it('hands malformed input to the client parser, which fails the same way', () => {
    for (const wire of ['MSG a 1 5\r\nhello\r\nMSG b x 3\r\nabc\r\n', 'MSG a 1 3\r\nabcXY', 'MSG  a 1 3\r\nabc\r\n', 'MSX a 1 3\r\n', 'MSG a 1 -3\r\n']) {
      const chunks = [Buffer.from(wire)];
      const expected = run(originalParse, chunks);
      expect(run(Parser.prototype.parse, chunks)).toEqual(expected);
    }
  });

  it('parses whole MSG frames itself (the client parser never runs for them)', () => {
    const wire = Buffer.from('MSG a 1 1\r\nx\r\nMSG b 2 r.1 2\r\nyz\r\n');
    const events: string[] = [];
    const parser = new Parser({ push: (e) => events.push(describeEvent(e)) }) as unknown as { parse(buf: Uint8Array): void; state: number; as: number };
    parser.as = -12345; // the client parser sets this at every control line
    parser.parse(wire);
    expect(parser.as).toBe(-12345);
    expect(parser.state).toBe(State.OP_START);
    expect(events).toEqual(run(originalParse, [wire]).events);
    parser.parse(Buffer.from('HMSG c 3 12 12\r\nNATS/1.0\r\n\r\n\r\n'));
    expect(parser.as).not.toBe(-12345); // anything else (here a message with headers) goes to the client parser
    expect(events).toHaveLength(3);
  });
});
