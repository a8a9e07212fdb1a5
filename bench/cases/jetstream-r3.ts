import { StorageType, type NatsConnection } from 'nats';
import { pollUntil, withDeadline } from '../support/deadline';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import type { BenchCase } from '../types';
import { publishPipelined } from './jetstream';

/** Creating or deleting an R3 stream is a meta-group and a stream-group Raft round on a busy two-core machine. */
const STREAM_ADMIN_MS = 30_000;

/**
 * Baseline for the replicated case: NATS JetStream on its own three-node cluster, one file-storage stream with
 * 3 replicas (nats-server defaults: a publish is acked once a quorum, 2 of 3, has it; no fsync per
 * message). Loaded exactly like the R1 case (plain publishes with one shared reply subject, up to
 * `window` unacknowledged, counted by PubAcks), through a connection to the stream's leader, so
 * no extra route hop is charged to JetStream (the liftbridge-ts publishes reach their leader
 * directly, too).
 */
export const jetStreamR3Case: BenchCase = {
  id: 'jetstream-r3',
  title: 'JetStream R3 file, pipelined (3 nodes)',
  phase: 'clusters',
  async run(ctx, size, run) {
    const total = ctx.config.publishCount;
    const name = `BENCH_JS3_${size}_R${run}`;
    const subject = `bench.js3.${size}.r${run}`;
    const data = payload(size);
    if (ctx.jetStreamCluster === null) throw new Error('the JetStream cluster runs in the cluster phase only');
    const { servers } = ctx.jetStreamCluster;
    let admin: NatsConnection | undefined;
    try {
      admin = await connectNats(servers[0]!.url, 'bench-jetstream-r3-admin');
      const jsm = await withDeadline(admin.jetstreamManager(), 10_000, 'JetStream manager (cluster)');
      const created = await withDeadline(
        jsm.streams.add({ name, subjects: [subject], storage: StorageType.File, num_replicas: 3 }),
        STREAM_ADMIN_MS,
        `JetStream R3 stream ${name}`,
      );
      try {
        let leaderName = created.cluster?.leader;
        await pollUntil(
          async () => (leaderName ??= (await jsm.streams.info(name)).cluster?.leader) !== undefined,
          10_000,
          `a leader for JetStream R3 stream ${name}`,
          50,
        );
        const leader = servers.find((s) => s.name === leaderName);
        if (!leader) throw new Error(`JetStream R3 stream ${name}: leader ${leaderName} is not a node the bench started`);
        const elapsedNs = await publishPipelined(leader.url, subject, data, total, ctx.config.window);
        return { messages: total, seconds: Number(elapsedNs) / 1e9 };
      } finally {
        await withDeadline(jsm.streams.delete(name), STREAM_ADMIN_MS, `deleting JetStream stream ${name}`).catch((error: Error) =>
          ctx.progress(`  warning: ${error.message}`),
        );
      }
    } finally {
      await closeNats(admin);
    }
  },
};
