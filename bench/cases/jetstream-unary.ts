import { withDeadline } from '../support/deadline';
import { payload } from '../support/messages';
import { PubFrames, RawNatsConnection } from '../support/raw-nats';
import { CALL_DEADLINE_MS, callSequentially } from '../support/sequential-calls';
import { quantile } from '../support/stats';
import { timedCpu } from '../support/timed-cpu';
import type { BenchCase } from '../types';
import { isPubAck, withJetStreamR1Stream } from './jetstream';

/** Untimed publishes before the timed ones, as the unary Publish case does (liftbridge-publish-unary.ts). */
const WARM_PUBLISHES = 500;

/**
 * The latency baseline of unary Publish (docs/benchmarks.md "Cases", baseline 4): NATS JetStream, one
 * file-storage stream with 1 replica (nats-server defaults: no fsync per message), one publish at a
 * time through the raw client (raw-nats.ts), each timed from its PUB to its PubAck. The same
 * request/acknowledgement shape as a unary Publish with AckPolicy LEADER, on the same machine and
 * nats-server; JetStream stores inside nats-server, so its path has no second process and no disk
 * write before the ack.
 */
export const jetStreamUnaryCase: BenchCase = {
  id: 'jetstream-r1-unary',
  title: 'JetStream R1 publish (1 at a time)',
  async run(ctx, size, run) {
    const total = ctx.config.unaryCount;
    const name = `BENCH_JSU_${size}_R${run}`;
    const subject = `bench.jsu.${size}.r${run}`;
    const inbox = `bench.jsu.acks.${process.pid}.${size}.${run}`;
    return withJetStreamR1Stream(ctx, name, subject, async () => {
      const raw = await RawNatsConnection.open(ctx.natsUrl);
      try {
        const frame = new PubFrames(subject, inbox, payload(size), 1).frames(1);
        let acked: ((problem: string | null) => void) | null = null;
        let failure: Error | null = null;
        const answer = (problem: string | null): void => {
          const done = acked;
          acked = null;
          done?.(problem);
        };
        raw.subscribe(inbox, isPubAck, () => answer(null), (error) => {
          failure = error;
          answer(error.message);
        });
        await raw.flush();
        const publishOne = (_i: number, done: (problem: string | null) => void): void => {
          if (failure !== null) return done(failure.message);
          acked = done;
          raw.write(frame);
        };
        const budgetMs = (WARM_PUBLISHES + total) * CALL_DEADLINE_MS;
        await withDeadline(callSequentially(WARM_PUBLISHES, publishOne), budgetMs, 'JetStream publish warm-up');
        timedCpu.take(); // the client's CPU of the timed publishes only
        const { elapsedNs, latenciesMs } = await withDeadline(callSequentially(total, publishOne), budgetMs, 'JetStream one-at-a-time publishes');
        latenciesMs.sort();
        return { messages: total, seconds: Number(elapsedNs) / 1e9, p50Ms: quantile(latenciesMs, 0.5), p99Ms: quantile(latenciesMs, 0.99) };
      } finally {
        raw.close();
      }
    });
  },
};
