import type { NatsConnection } from 'nats';
import { AckWindow } from '../support/ack-window';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import type { BenchCase } from '../types';

/** Messages in flight between publisher and subscriber: about 4 MiB, never above the server's slow-consumer limit. */
const inFlight = (size: number): number => Math.max(1_000, Math.floor((4 * 1024 * 1024) / size));

/**
 * Baseline 1: core NATS publish -> subscribe on the bench's nats-server. One publisher connection,
 * one subscriber connection, counted on receipt. The publisher keeps a bounded number of messages
 * in flight (about 4 MiB) so that the subscriber is never cut off as a slow consumer.
 */
export const coreNatsCase: BenchCase = {
  id: 'core-nats',
  title: 'core NATS pub->sub',
  async run(ctx, size, run) {
    const total = ctx.config.coreCount;
    const subject = `bench.core.${size}.r${run}`;
    const data = payload(size);
    let publisher: NatsConnection | undefined;
    let subscriber: NatsConnection | undefined;
    try {
      publisher = await connectNats(ctx.natsUrl, 'bench-core-pub');
      subscriber = await connectNats(ctx.natsUrl, 'bench-core-sub');
      const pub = publisher;
      const pipeline = new AckWindow('core NATS', total, inFlight(size), () => pub.publish(subject, data));
      subscriber.subscribe(subject, {
        callback: (error) => (error ? pipeline.fail(new Error(`core NATS subscription failed: ${error.message}`)) : pipeline.ack()),
      });
      await subscriber.flush();
      const elapsedNs = await pipeline.run();
      return { messages: total, seconds: Number(elapsedNs) / 1e9 };
    } finally {
      await closeNats(publisher, subscriber);
    }
  },
};
