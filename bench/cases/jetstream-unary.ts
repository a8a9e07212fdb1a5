import { StorageType, type NatsConnection } from 'nats';
import { withDeadline } from '../support/deadline';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { PubFrames, RawNatsConnection } from '../support/raw-nats';
import { CALL_DEADLINE_MS, callSequentially } from '../support/sequential-calls';
import { quantile } from '../support/stats';
import { timedCpu } from '../support/timed-cpu';
import type { BenchCase } from '../types';

const QUOTE = 0x22;
const S = 0x73;
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
    let nc: NatsConnection | undefined;
    let raw: RawNatsConnection | undefined;
    try {
      nc = await connectNats(ctx.natsUrl, 'bench-jetstream-unary');
      const jsm = await withDeadline(nc.jetstreamManager(), 10_000, 'JetStream manager');
      await withDeadline(jsm.streams.add({ name, subjects: [subject], storage: StorageType.File, num_replicas: 1 }), 10_000, `JetStream stream ${name}`);
      try {
        raw = await RawNatsConnection.open(ctx.natsUrl);
        const frame = new PubFrames(subject, inbox, payload(size), 1).frames(1);
        let acked: ((problem: string | null) => void) | null = null;
        let failure: Error | null = null;
        raw.subscribe(inbox, (data, start) => data[start + 1] === QUOTE && data[start + 2] === S, () => {
          const done = acked;
          acked = null;
          done?.(null);
        }, (error) => {
          failure = error;
          const done = acked;
          acked = null;
          done?.(error.message);
        });
        await raw.flush();
        const connection = raw;
        const publishOne = (_i: number, done: (problem: string | null) => void): void => {
          if (failure !== null) return done(failure.message);
          acked = done;
          connection.write(frame);
        };
        const budgetMs = (WARM_PUBLISHES + total) * CALL_DEADLINE_MS;
        await withDeadline(callSequentially(WARM_PUBLISHES, publishOne), budgetMs, 'JetStream publish warm-up');
        timedCpu.take(); // the client's CPU of the timed publishes only
        const { elapsedNs, latenciesMs } = await withDeadline(callSequentially(total, publishOne), budgetMs, 'JetStream one-at-a-time publishes');
        latenciesMs.sort();
        return { messages: total, seconds: Number(elapsedNs) / 1e9, p50Ms: quantile(latenciesMs, 0.5), p99Ms: quantile(latenciesMs, 0.99) };
      } finally {
        raw?.close();
        await withDeadline(jsm.streams.delete(name), 10_000, `deleting JetStream stream ${name}`).catch((error: Error) => ctx.progress(`  warning: ${error.message}`));
      }
    } finally {
      await closeNats(nc);
    }
  },
};
