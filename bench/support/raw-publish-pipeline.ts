import { randomBytes } from 'node:crypto';
import { AckWindow } from './ack-window';
import { PayloadCheck, PubFrames, RawNatsConnection } from './raw-nats';

export interface RawPipelineOptions {
  readonly url: string;
  readonly subject: string;
  /** The message body as published (a payload, or a liftbridge-ts envelope). */
  readonly body: Uint8Array;
  readonly total: number;
  readonly window: number;
  readonly what: string;
  /**
   * 'replies': every publish carries one shared reply inbox and counts when its reply arrives
   * there (JetStream PubAcks); `{ inbox }`: the replies come to this inbox, named inside the body
   * (liftbridge-ts acks); 'subscriber': a second connection subscribes to the subject and counts
   * what it receives (core NATS).
   */
  readonly count: 'replies' | { readonly inbox: string } | 'subscriber';
  /** Checks each reply or received message; null: any. */
  readonly check: PayloadCheck | null;
}

export interface RawPipelineResult {
  readonly elapsedNs: bigint;
  /** The last reply or message received (for a liftbridge-ts ack: its offset and error). */
  readonly last: Buffer;
}

/**
 * Pipelined publishes through the raw client (raw-nats.ts): up to `window` unanswered, the
 * publishes due after one socket read sent in one write, counted per read; no allocation, promise
 * or callback per message on the client's side.
 */
export async function rawPipelinedPublish(options: RawPipelineOptions): Promise<RawPipelineResult> {
  const publisher = await RawNatsConnection.open(options.url);
  const receiver = options.count === 'subscriber' ? await RawNatsConnection.open(options.url) : publisher;
  try {
    const replyTo = options.count === 'replies' ? `_INBOX.bench.${randomBytes(8).toString('hex')}` : null;
    const subscribeTo = options.count === 'subscriber' ? options.subject : options.count === 'replies' ? replyTo! : options.count.inbox;
    const frames = new PubFrames(options.subject, replyTo, options.body, options.window);
    let due = 0;
    const pipeline = new AckWindow(options.what, options.total, options.window, () => due++);
    const send = (): void => {
      while (due > 0) {
        const batch = Math.min(due, frames.capacity);
        publisher.write(frames.frames(batch));
        due -= batch;
      }
    };
    let last: Buffer = Buffer.alloc(0);
    receiver.subscribe(
      subscribeTo,
      options.check,
      (count, lastMessage) => {
        last = lastMessage;
        pipeline.ack(count);
        send();
      },
      (error) => pipeline.fail(new Error(`${options.what}: ${error.message}`)),
    );
    await receiver.flush();
    const done = pipeline.run();
    send();
    return { elapsedNs: await done, last };
  } finally {
    publisher.close();
    if (receiver !== publisher) receiver.close();
  }
}
