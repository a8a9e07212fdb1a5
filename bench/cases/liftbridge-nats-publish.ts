import type { NatsConnection } from 'nats';
import { publishEnveloped, warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase, BenchContext, CaseId } from '../types';

/**
 * liftbridge-ts (a): enveloped NATS publishes to the stream subject with one shared ack inbox
 * (ackPolicy LEADER, default durability: fsync before ack), up to `window` unacknowledged, counted
 * when the ack arrives. The last ack's offset must account for every message.
 *
 * Built twice: against the main server (metrics on, the default) and against the second server
 * started with LIFTBRIDGE_METRICS_ENABLED=false, so that the metrics overhead on the publish path
 * is measured in one run; and a third time against a twin server with metrics on whose only load
 * is this case, like the metrics-off server's (the main server also carries every other case, which
 * makes it measurably faster on its own). Stream names and subjects differ, so no two share a subject.
 */
function natsPublishCase(id: CaseId, title: string, tag: string, server: NonNullable<BenchCase['liftbridge']>): BenchCase {
  const controlOf = (ctx: BenchContext) =>
    server === 'main' ? ctx.control : server === 'metrics-off' ? ctx.metricsOff.control : ctx.metricsOnTwin.control;
  return {
    id,
    title,
    liftbridge: server,
    async run(ctx, size, run) {
      const total = ctx.config.publishCount;
      const name = `bench-${tag}-${size}-r${run}`;
      const subject = `bench.${tag}.${size}.r${run}`;
      const control = controlOf(ctx);
      let nc: NatsConnection | undefined;
      await createStream(control, name, subject);
      try {
        nc = await connectNats(ctx.natsUrl, `bench-lb-${tag}`);
        const warmUps = await warmUpPartition(nc, subject);
        const result = await publishEnveloped(ctx.natsUrl, subject, payload(size), total, ctx.config.window, title);
        const minimum = BigInt(total);
        if (result.lastOffset < minimum || result.lastOffset >= minimum + BigInt(warmUps)) {
          throw new Error(`${title}: last ack has offset ${result.lastOffset}, expected ${total}..${total + warmUps - 1}`);
        }
        return { messages: total, seconds: Number(result.elapsedNs) / 1e9 };
      } finally {
        await closeNats(nc);
        await deleteStream(control, name, ctx.progress);
      }
    },
  };
}

export const liftbridgeNatsPublishCase: BenchCase = natsPublishCase('lb-nats-publish', 'liftbridge acked NATS publish', 'natspub', 'main');

export const liftbridgeNatsPublishMetricsOffCase: BenchCase = natsPublishCase(
  'lb-nats-publish-metrics-off',
  'liftbridge acked NATS publish (metrics off)',
  'natspuboff',
  'metrics-off',
);

export const liftbridgeNatsPublishMetricsOnTwinCase: BenchCase = natsPublishCase(
  'lb-nats-publish-metrics-on-twin',
  'liftbridge acked NATS publish (on, twin)',
  'natspubtwin',
  'metrics-on-twin',
);
