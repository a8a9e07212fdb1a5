/**
 * `npm run bench:cluster`: metadata operation latency on a three-server cluster (docs/cluster.md). Starts
 * its own nats-server (JetStream on), three liftbridge-ts servers forming one cluster (a seed, two
 * that auto-join) and one single-server cluster, then times CreateStream one at a time: sent to
 * the controller, sent to a follower (forwarded), on the single server, and JetStream's own
 * stream creation on the same nats-server as the baseline. Prints p50/p99 and writes
 * .tmp/bench-cluster.json. Not a test: it measures and reports.
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from 'nats';
import { createApiClient, type ApiClient } from '../src/protocol/api-service-definition';
import { ChildRegistry } from './support/children';
import { pollUntil } from './support/deadline';
import { startLiftbridge } from './support/liftbridge-server';
import { OrphanGuard } from './support/orphan-guard';
import { startNatsServer } from './support/nats-server';

const COUNT = Number(process.env.BENCH_CLUSTER_COUNT ?? 300);

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

function createStream(client: ApiClient, name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.createStream({ name, subject: name, replicationFactor: 1 }, { deadline: Date.now() + 10_000 }, (error) => (error ? reject(error) : resolve())),
  );
}

async function time(label: string, count: number, op: (i: number) => Promise<void>): Promise<{ label: string; p50: number; p99: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await op(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const result = { label, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
  process.stderr.write(`bench: ${label}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max ${result.max.toFixed(2)} ms\n`);
  return result;
}

async function main(): Promise<void> {
  const guard = new OrphanGuard();
  const children = new ChildRegistry(guard);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-bench-cluster-'));
  guard.removeOnOrphan(workDir);
  const clients: ApiClient[] = [];
  const client = (address: string): ApiClient => {
    const c = createApiClient(address, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };
  try {
    const nats = await startNatsServer(children, workDir);
    const namespace = `benchcluster${process.pid}`;
    const seed = await startLiftbridge(children, workDir, nats.url, { label: 'node-a', cluster: { serverId: 'a', namespace, seed: true } });
    const b = await startLiftbridge(children, workDir, nats.url, { label: 'node-b', cluster: { serverId: 'b', namespace, seed: false } });
    await startLiftbridge(children, workDir, nats.url, { label: 'node-c', cluster: { serverId: 'c', namespace, seed: false } });
    const single = await startLiftbridge(children, workDir, nats.url, { label: 'single' });
    const controller = client(seed.address);
    const follower = client(b.address);
    const alone = client(single.address);
    await pollUntil(
      () =>
        new Promise<boolean>((resolve) =>
          follower.fetchMetadata({}, { deadline: Date.now() + 1000 }, (error, response) => resolve(!error && response!.brokers.length === 3)),
        ),
      15_000,
      'three brokers in the cluster',
    );
    const nc = await connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    // Warm up every path untimed.
    for (let i = 0; i < 20; i++) {
      await createStream(controller, `warm-c-${i}`);
      await createStream(follower, `warm-f-${i}`);
      await createStream(alone, `warm-s-${i}`);
      await jsm.streams.add({ name: `warmjs${i}`, subjects: [`warmjs${i}`] });
    }
    const results = [
      await time('JetStream stream create (R1, same nats-server)', COUNT, (i) => jsm.streams.add({ name: `js${i}`, subjects: [`js${i}`] }).then(() => undefined)),
      await time('CreateStream, single-server cluster', COUNT, (i) => createStream(alone, `single-${i}`)),
      await time('CreateStream, 3-server cluster, sent to the controller', COUNT, (i) => createStream(controller, `ctl-${i}`)),
      await time('CreateStream, 3-server cluster, sent to a follower (forwarded)', COUNT, (i) => createStream(follower, `fwd-${i}`)),
    ];
    await nc.close();
    const baseline = results[0]!.p50;
    process.stdout.write(`\nMetadata latency, ${COUNT} sequential operations each (${nats.version})\n\n`);
    process.stdout.write('| operation | p50 ms | p99 ms | max ms | p50 / JetStream |\n|---|---:|---:|---:|---:|\n');
    for (const r of results) process.stdout.write(`| ${r.label} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${(r.p50 / baseline).toFixed(2)}x |\n`);
    fs.mkdirSync(path.resolve(__dirname, '../.tmp'), { recursive: true });
    fs.writeFileSync(path.resolve(__dirname, '../.tmp/bench-cluster.json'), JSON.stringify({ count: COUNT, results }, null, 2));
  } finally {
    for (const c of clients) c.close();
    await children.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
    guard.release();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
