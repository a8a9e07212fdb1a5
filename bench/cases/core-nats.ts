import { payload } from '../support/messages';
import { rawPipelinedPublish } from '../support/raw-publish-pipeline';
import type { BenchCase } from '../types';

/** Messages in flight between publisher and subscriber: about 4 MiB, never above the server's slow-consumer limit. */
const inFlight = (size: number): number => Math.max(1_000, Math.floor((4 * 1024 * 1024) / size));

/**
 * Baseline 1: core NATS publish -> subscribe on the bench's nats-server. One publisher connection,
 * one subscriber connection, both the raw client (raw-nats.ts), counted on receipt. The publisher
 * keeps a bounded number of messages in flight (about 4 MiB) so that the subscriber is never cut
 * off as a slow consumer.
 */
export const coreNatsCase: BenchCase = {
  id: 'core-nats',
  title: 'core NATS pub->sub',
  async run(ctx, size, run) {
    const total = ctx.config.coreCount;
    const subject = `bench.core.${size}.r${run}`;
    const result = await rawPipelinedPublish({
      url: ctx.natsUrl,
      subject,
      body: payload(size),
      total,
      window: inFlight(size),
      what: 'core NATS',
      count: 'subscriber',
      check: null,
    });
    return { messages: total, seconds: Number(result.elapsedNs) / 1e9 };
  },
};
