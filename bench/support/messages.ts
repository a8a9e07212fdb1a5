import { encodeMessage } from '../../src/protocol/api-proto';

/** The payload (Message.value) of `size` bytes that every case sends; content is irrelevant. */
export function payload(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = 97 + (i % 26);
  return buf;
}

/** Stream and subject names as the catch-up case makes them, so the ceiling's Message has the same shape. */
export const catchupStreamName = (size: number, run: number): string => `bench-catchup-${size}-r${run}`;
export const catchupSubject = (size: number, run: number): string => `bench.catchup.${size}.r${run}`;

/**
 * One realistic `proto.Message` as liftbridge-ts streams it on Subscribe for a message published
 * over NATS: offset, value, timestamp (ns), stream, subject, and the stored "subject" and "reply"
 * headers; encoded with the protobufjs codec of api.proto. Its size matches the server's (the
 * table shows both as "B/msg as Message").
 */
export function encodeRealisticMessage(valueBytes: number): Buffer {
  const subject = catchupSubject(valueBytes, 1);
  return encodeMessage({
    offset: 123_456n,
    value: payload(valueBytes),
    timestamp: BigInt(Date.now()) * 1_000_000n,
    stream: catchupStreamName(valueBytes, 1),
    partition: 0,
    subject,
    headers: { subject: Buffer.from(subject), reply: Buffer.alloc(0) },
  });
}

/** The SubscribeRequest.stream that asks the ceiling server for `count` messages of `valueBytes`. */
export const ceilingRequestStream = (valueBytes: number, count: number): string => `ceiling:${valueBytes}:${count}`;

export function parseCeilingRequestStream(stream: string): { valueBytes: number; count: number } | null {
  const match = /^ceiling:(\d+):(\d+)$/.exec(stream);
  return match ? { valueBytes: Number(match[1]), count: Number(match[2]) } : null;
}
