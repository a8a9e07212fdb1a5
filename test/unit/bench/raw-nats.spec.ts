import { NatsFrameReader, PubFrames } from '../../../bench/support/raw-nats';
import { seededPrng } from '../../../src/domain/shared/prng';

/** The bench's raw NATS client (docs/benchmarks.md "Clients"): what it counts must be what arrived. */
function stream(messages: readonly string[]): Buffer {
  const parts = ['INFO {"server_id":"x"}\r\n', 'PING\r\n'];
  messages.forEach((m, i) => parts.push(i % 2 === 0 ? `MSG _INBOX.a 1 ${Buffer.byteLength(m)}\r\n${m}\r\n` : `MSG bench.s 1 reply.x ${Buffer.byteLength(m)}\r\n${m}\r\n`));
  parts.push('PONG\r\n');
  return Buffer.from(parts.join(''), 'latin1');
}

describe('NatsFrameReader', () => {
  const messages = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? '' : `{"stream":"S","seq":${i}}${'x'.repeat(i % 50)}\r\nMSG fake 1 3\r\n`));

  it('counts every message once, whatever the reads cut, and checks each payload in place', () => {
    const whole = stream(messages);
    for (let seed = 0; seed < 50; seed++) {
      const random = seededPrng(seed);
      const events = { pings: 0, pongs: 0, errors: [] as string[] };
      const reader = new NatsFrameReader({ ping: () => events.pings++, pong: () => events.pongs++, error: (m) => events.errors.push(m) });
      const seen: string[] = [];
      reader.check = (data, start, end) => (seen.push(data.subarray(start, end).toString('latin1')), true);
      let counted = 0;
      for (let at = 0; at < whole.length; ) {
        const size = 1 + random.nextInt(300);
        counted += reader.read(Buffer.from(whole.subarray(at, at + size)));
        at += size;
      }
      expect({ seed, counted, seen, last: reader.last.toString('latin1'), events }).toEqual({
        seed,
        counted: messages.length,
        seen: messages,
        last: messages.at(-1),
        events: { pings: 1, pongs: 1, errors: [] },
      });
    }
  });

  it('fails a run on a payload the check refuses, and on -ERR', () => {
    const errors: string[] = [];
    const reader = new NatsFrameReader({ ping: () => undefined, pong: () => undefined, error: (m) => errors.push(m) });
    reader.check = (data, start) => data[start] === 0x7b;
    expect(reader.read(Buffer.from('MSG a 1 2\r\n{}\r\nMSG a 1 5\r\nerror\r\n'))).toBe(1);
    reader.check = null;
    reader.read(Buffer.from("-ERR 'Authorization Violation'\r\n"));
    expect(errors).toEqual(['unexpected message: error', "nats-server: -ERR 'Authorization Violation'"]);
  });
});

describe('PubFrames', () => {
  it('is k copies of one PUB frame, with and without a reply subject', () => {
    const frames = new PubFrames('bench.s', '_INBOX.r', Buffer.from('hello'), 3);
    expect(frames.frames(2).toString('latin1')).toBe('PUB bench.s _INBOX.r 5\r\nhello\r\n'.repeat(2));
    expect(new PubFrames('s', null, Buffer.alloc(0), 1).frames(1).toString('latin1')).toBe('PUB s 0\r\n\r\n');
  });
});
