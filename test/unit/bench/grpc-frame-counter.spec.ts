import { seededPrng } from '../../../src/domain/shared/prng';
import { GrpcFrameCounter } from '../../../bench/support/grpc-frame-counter';

/** The bench's lean Subscribe reader (docs/benchmarks.md "Clients") counts gRPC messages as they arrive. */
describe('GrpcFrameCounter', () => {
  const lengths = [0, 1, 204, 0, 1132, 70_000, 5, 4, 3];
  const body = Buffer.concat(
    lengths.map((n) => {
      const frame = Buffer.alloc(5 + n, 0x7a);
      frame[0] = 0;
      frame.writeUInt32BE(n, 1);
      return frame;
    }),
  );

  it('counts every message and its bytes once, whatever the chunks cut (prefixes and bodies split anywhere)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const random = seededPrng(seed);
      const counter = new GrpcFrameCounter(2);
      for (let at = 0; at < body.length; ) {
        const size = 1 + random.nextInt(seed % 2 === 0 ? 7 : 3000);
        counter.feed(body.subarray(at, at + size));
        at += size;
      }
      expect({ seed, messages: counter.messages, bytes: counter.messageBytes, first: counter.firstLengths }).toEqual({
        seed,
        messages: lengths.length,
        bytes: lengths.reduce((a, b) => a + b, 0),
        first: [0, 1],
      });
    }
  });

  it('shows each message that lies whole in a chunk, in place, and counts the others as split', () => {
    for (let seed = 0; seed < 50; seed++) {
      const random = seededPrng(seed);
      const seen: number[] = [];
      const counter = new GrpcFrameCounter(1, (chunk, start, end) => seen.push(end - start, end > start ? chunk[start]! : -1));
      for (let at = 0; at < body.length; ) {
        const size = 1 + random.nextInt(seed % 2 === 0 ? 7 : 3000);
        counter.feed(body.subarray(at, at + size));
        at += size;
      }
      // Every message is either seen whole (with its first byte, 0x7a unless empty) or split.
      expect(seen.length / 2 + counter.split).toBe(lengths.length);
      for (let i = 0; i < seen.length; i += 2) expect(seen[i + 1]).toBe(seen[i] === 0 ? -1 : 0x7a);
    }
    const whole = new GrpcFrameCounter(1, () => undefined);
    whole.feed(body);
    expect(whole.split).toBe(0);
  });
});
