import { StorageType, type NatsConnection } from 'nats';
import { withDeadline } from '../support/deadline';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { rawPipelinedPublish } from '../support/raw-publish-pipeline';
import type { BenchCase, BenchContext } from '../types';

const QUOTE = 0x22;
const S = 0x73;

/** A PubAck is `{"stream":...,"seq":...}`; an error is `{"error":...}`: the third byte tells them apart. */
export const isPubAck = (data: Uint8Array, start: number): boolean => data[start + 1] === QUOTE && data[start + 2] === S;

/**
 * Core publishes of `data` to a JetStream stream's `subject` with one shared reply subject, up to
 * `window` unacknowledged, counted when the PubAck arrives, through the raw client (raw-nats.ts);
 * resolves with the elapsed nanoseconds. Shared by the R1 and R3 cases so that both load JetStream
 * the same way.
 */
export async function publishPipelined(natsUrl: string, subject: string, data: Uint8Array, total: number, window: number): Promise<bigint> {
  const result = await rawPipelinedPublish({ url: natsUrl, subject, body: data, total, window, what: 'JetStream publish', count: 'replies', check: isPubAck });
  return result.elapsedNs;
}

/**
 * Runs `body` while a file-storage JetStream stream `name` with 1 replica (nats-server defaults)
 * captures `subject`; deletes it afterwards (a failed delete is only reported). Shared by the
 * pipelined and the one-at-a-time R1 cases.
 */
export async function withJetStreamR1Stream<T>(ctx: BenchContext, name: string, subject: string, body: () => Promise<T>): Promise<T> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connectNats(ctx.natsUrl, 'bench-jetstream');
    const jsm = await withDeadline(nc.jetstreamManager(), 10_000, 'JetStream manager');
    await withDeadline(jsm.streams.add({ name, subjects: [subject], storage: StorageType.File, num_replicas: 1 }), 10_000, `JetStream stream ${name}`);
    try {
      return await body();
    } finally {
      await withDeadline(jsm.streams.delete(name), 10_000, `deleting JetStream stream ${name}`).catch((error: Error) => ctx.progress(`  warning: ${error.message}`));
    }
  } finally {
    await closeNats(nc);
  }
}

/**
 * Baseline 2: NATS JetStream, one file-storage stream with 1 replica (nats-server defaults, so no
 * fsync per message). Core publishes to the stream subject with one shared reply subject, up to
 * `window` unacknowledged, counted when the PubAck arrives (`publishPipelined`).
 */
export const jetStreamCase: BenchCase = {
  id: 'jetstream-r1',
  title: 'JetStream R1 file, pipelined',
  async run(ctx, size, run) {
    const total = ctx.config.publishCount;
    const name = `BENCH_JS_${size}_R${run}`;
    const subject = `bench.js.${size}.r${run}`;
    const data = payload(size);
    return withJetStreamR1Stream(ctx, name, subject, async () => {
      const elapsedNs = await publishPipelined(ctx.natsUrl, subject, data, total, ctx.config.window);
      return { messages: total, seconds: Number(elapsedNs) / 1e9 };
    });
  },
};
