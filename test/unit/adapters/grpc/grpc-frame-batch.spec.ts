import { GrpcFrameBatch } from '../../../../src/protocol/grpc-frame-batch';
import { RawFrameWriter } from '../../../../src/protocol/grpc-raw-frames';

/** Records every write instead of sending it. */
function recordingWriter(): RawFrameWriter & { writes: Buffer[] } {
  const writes: Buffer[] = [];
  return { writes, write: (frames) => void writes.push(Buffer.from(frames)), bufferedBytes: 0, drained: () => Promise.resolve() };
}

/** Splits a buffer of gRPC frames back into messages, checking every prefix. */
function unframe(frames: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at < frames.length; ) {
    expect(frames[at]).toBe(0);
    const length = frames.readUInt32BE(at + 1);
    messages.push(frames.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

describe('GrpcFrameBatch', () => {
  it('writes the messages added in one synchronous run as one buffer of frames, in order', async () => {
    const raw = recordingWriter();
    const batch = new GrpcFrameBatch(raw);
    const messages = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 9), Buffer.from('last')];
    for (const m of messages) batch.add(m);
    expect(raw.writes).toHaveLength(0);
    await Promise.resolve();
    expect(raw.writes).toHaveLength(1);
    expect(unframe(raw.writes[0]!)).toEqual(messages);
  });

  it('starts a new write for messages added after the previous one went out', async () => {
    const raw = recordingWriter();
    const batch = new GrpcFrameBatch(raw);
    batch.add(Buffer.from('a'));
    await Promise.resolve();
    batch.add(Buffer.from('b'));
    batch.add(Buffer.from('c'));
    await Promise.resolve();
    expect(raw.writes.map(unframe)).toEqual([[Buffer.from('a')], [Buffer.from('b'), Buffer.from('c')]]);
  });

  it('flushes on demand (before the call ends) and never writes an empty buffer', async () => {
    const raw = recordingWriter();
    const batch = new GrpcFrameBatch(raw);
    batch.flush();
    batch.add(Buffer.from('x'));
    batch.flush();
    expect(raw.writes.map(unframe)).toEqual([[Buffer.from('x')]]);
    await Promise.resolve(); // the scheduled flush finds nothing left
    expect(raw.writes).toHaveLength(1);
  });
});
