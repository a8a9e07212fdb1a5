import type { NatsConnection } from 'nats';
import { publishEnveloped, warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

/**
 * liftbridge-ts (a): enveloped NATS publishes to the stream subject with one shared ack inbox
 * (ackPolicy LEADER, default durability: fsync before ack), up to `window` unacknowledged, counted
 * when the ack arrives. The last ack's offset must account for every message.
 */
export const liftbridgeNatsPublishCase: BenchCase = {
  id: 'lb-nats-publish',
  title: 'liftbridge acked NATS publish',
  async run(ctx, size, run) {
    const total = ctx.config.publishCount;
    const name = `bench-natspub-${size}-r${run}`;
    const subject = `bench.natspub.${size}.r${run}`;
    let nc: NatsConnection | undefined;
    await createStream(ctx.control, name, subject);
    try {
      nc = await connectNats(ctx.natsUrl, 'bench-lb-nats-publish');
      const warmUps = await warmUpPartition(nc, subject);
      const result = await publishEnveloped(nc, subject, payload(size), total, ctx.config.window, 'liftbridge NATS publish');
      const minimum = BigInt(total);
      if (result.lastOffset < minimum || result.lastOffset >= minimum + BigInt(warmUps)) {
        throw new Error(`liftbridge NATS publish: last ack has offset ${result.lastOffset}, expected ${total}..${total + warmUps - 1}`);
      }
      return { messages: total, seconds: Number(result.elapsedNs) / 1e9 };
    } finally {
      await closeNats(nc);
      await deleteStream(ctx.control, name, ctx.progress);
    }
  },
};
