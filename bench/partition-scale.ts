/**
 * `npm run bench:scale`: how one server grows with its partition count (docs/benchmarks.md
 * "Partition scale"). Starts its own nats-server; for each point N (default 100, 1,000, 5,000 and
 * 10,000 partitions, as N/4 streams of 4 partitions) a fresh server on a fresh data directory:
 * CreateStream one at a time (latency of each; p50/p99 over the last 200, i.e. "at that size"),
 * its RSS, its CPU while idle, unary Publish (AckPolicy LEADER) to a random partition of a random
 * stream one at a time (then the same partitions again, then all to one partition), then SIGTERM
 * and a restart on the same data directory, timed from the spawn to SERVING, to the
 * `liftbridge-ts started` log line and to `/readyz` answering 200, and its RSS once ready. A server
 * with one stream of one partition, measured first and last in the same run (its Publishes timed
 * in a second pass), is the baseline of the publish latency. Prints a table and writes .tmp/partition-scale.json. Every child is stopped
 * at the end, on Ctrl-C and SIGTERM, and (orphan guard) if the bench is killed.
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AckPolicy, encodePublishRequest } from '../src/protocol/api-proto';
import { createApiClient, type ApiClient } from '../src/protocol/api-service-definition';
import { ChildRegistry } from './support/children';
import { freePort, pollUntil, withDeadline } from './support/deadline';
import { startLiftbridge, type StartedLiftbridge } from './support/liftbridge-server';
import { startNatsServer } from './support/nats-server';
import { OrphanGuard } from './support/orphan-guard';
import { processCpuMs } from './support/process-cpu';
import { processRssBytes } from './support/process-memory';
import { connectRawClient, isPublishAck } from './support/raw-api-client';
import { CALL_DEADLINE_MS, callSequentially } from './support/sequential-calls';
import { quantile } from './support/stats';

const PARTITIONS_PER_STREAM = 4;
/** CreateStream latency "at that size": over the last this many streams created. */
const CREATE_WINDOW = 200;
const START_TIMEOUT_MS = 180_000;
/** A server with 10,000 partitions closes them all on SIGTERM. */
const STOP_GRACE_MS = 60_000;
const PUBLISH_WARM_UP = 20;
/** How long the server's idle CPU is sampled after the streams are created. */
const IDLE_SAMPLE_MS = 3_000;
const VALUE = Buffer.alloc(100, 0x61);

const USAGE = `Usage: npm run bench:scale -- [--quick] [--points N,N,...] [--publishes N]

  --points       partition counts, each a multiple of ${PARTITIONS_PER_STREAM} (default 100,1000,5000,10000; --quick: 100,1000)
  --publishes N  unary Publishes per server, one at a time (default 500; --quick: 100)
  --quick        the small points and fewer publishes (about a minute)
  --help         this text

Progress goes to stderr, the table to stdout, the results to .tmp/partition-scale.json.`;

interface Config {
  readonly points: readonly number[];
  readonly publishes: number;
}

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

interface PointResult {
  readonly partitions: number;
  readonly streams: number;
  readonly createSeconds: number;
  /** Over the last CREATE_WINDOW CreateStream calls (all of them when fewer). */
  readonly createStream: Latency & { readonly over: number };
  readonly rssAfterCreateMB: number;
  /** To a random partition of a random stream each time. */
  readonly publish: Latency;
  /** The same partitions in the same order again: none is written for the first time in its leader epoch. */
  readonly publishAgain: Latency;
  /** Every call to the same partition (scale-0/0): tells a cost of the partition count from one of touching many files. */
  readonly publishOnePartition: Latency;
  /** The server's CPU while idle after the creation, in percent of one core. */
  readonly idleCpuPercent: number;
  readonly stopSeconds: number;
  readonly restart: { readonly servingSeconds: number; readonly startedLineSeconds: number | null; readonly readySeconds: number };
  readonly rssAfterRestartMB: number;
}

function parseArgs(argv: readonly string[]): Config | null {
  let quick = false;
  let points: number[] | undefined;
  let publishes: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.includes('=') ? argv[i]!.split('=', 2) : [argv[i]!, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--quick') quick = true;
    else if (flag === '--help' || flag === '-h') return null;
    else if (flag === '--points') points = value().split(',').map((p) => Number(p.trim()));
    else if (flag === '--publishes') publishes = Number(value());
    else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  for (const n of points ?? []) {
    if (!Number.isSafeInteger(n) || n <= 0 || n % PARTITIONS_PER_STREAM !== 0) throw new Error(`--points needs positive multiples of ${PARTITIONS_PER_STREAM}, got ${n}`);
  }
  if (publishes !== undefined && (!Number.isSafeInteger(publishes) || publishes <= 0)) throw new Error(`--publishes needs a positive integer, got ${publishes}`);
  return { points: points ?? (quick ? [100, 1_000] : [100, 1_000, 5_000, 10_000]), publishes: publishes ?? (quick ? 100 : 500) };
}

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const seconds = (fromNs: bigint): number => Number(process.hrtime.bigint() - fromNs) / 1e9;
const mb = (bytes: number | null): number => (bytes === null ? NaN : bytes / 2 ** 20);

function latency(values: Float64Array | number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  return { p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted[sorted.length - 1] ?? NaN };
}

function createStream(client: ApiClient, name: string, partitions: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.createStream({ name, subject: name, partitions, replicationFactor: 1 }, { deadline: Date.now() + CALL_DEADLINE_MS }, (error) =>
      error ? reject(new Error(`CreateStream ${name} failed: ${grpc.status[error.code]} ${error.details}`)) : resolve(),
    ),
  );
}

/** Creates `streams` streams one at a time; the latency of each, in ms. */
async function createStreams(address: string, streams: number, partitions: number): Promise<number[]> {
  const client = createApiClient(address, grpc.credentials.createInsecure());
  const ms: number[] = [];
  try {
    for (let i = 0; i < streams; i++) {
      const t0 = process.hrtime.bigint();
      await createStream(client, `scale-${i}`, partitions);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if ((i + 1) % Math.max(1, Math.floor(streams / 10)) === 0) progress(`  ${i + 1}/${streams} streams created (last: ${ms[i]!.toFixed(1)} ms)`);
    }
  } finally {
    client.close();
  }
  return ms;
}

/** Publish requests (AckPolicy LEADER, 100 B), each to a random partition of a random stream (all to scale-0/0 for 1 and 1). */
function randomRequests(streams: number, partitions: number, total: number): Buffer[] {
  return Array.from({ length: PUBLISH_WARM_UP + total }, () =>
    encodePublishRequest({
      stream: `scale-${Math.floor(Math.random() * streams)}`,
      partition: Math.floor(Math.random() * partitions),
      value: VALUE,
      ackPolicy: AckPolicy.LEADER,
      expectedOffset: -1,
    }),
  );
}

/** Unary Publishes of `requests`, one at a time: the first PUBLISH_WARM_UP untimed, the latency of the others. */
async function publishEach(address: string, requests: readonly Buffer[]): Promise<Latency> {
  const total = requests.length - PUBLISH_WARM_UP;
  const client = await connectRawClient(address);
  const run = (offset: number, count: number): Promise<{ latenciesMs: Float64Array }> =>
    callSequentially(count, (i, done) =>
      client.publish(requests[offset + i]!, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) =>
        done(error ? `unary Publish failed: ${grpc.status[error.code]} ${error.details}` : !response || !isPublishAck(response) ? 'the Publish response carries no ack' : null),
      ),
    );
  try {
    await withDeadline(run(0, PUBLISH_WARM_UP), PUBLISH_WARM_UP * CALL_DEADLINE_MS, 'the warm-up Publishes');
    const { latenciesMs } = await withDeadline(run(PUBLISH_WARM_UP, total), total * CALL_DEADLINE_MS, 'the timed Publishes');
    return latency(latenciesMs);
  } finally {
    client.close();
  }
}

/** One GET of /readyz; true on 200. */
function isReady(httpPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: httpPort, path: '/readyz', timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

/**
 * A server of `label` (its data directory kept from an earlier start, if any), with the timings of
 * its start. /readyz is polled only once SERVING was seen (it cannot be ready before): each call
 * checks every partition, and polling it every 10 ms through the start cost the server 1 s of CPU
 * at 10,000 partitions.
 */
async function startTimed(children: ChildRegistry, workDir: string, natsUrl: string, label: string) {
  const httpPort = await freePort();
  let spawnedAt = 0n;
  let startedLineSeconds: number | null = null;
  const server = await startLiftbridge(children, workDir, natsUrl, {
    label,
    logLevel: 'info',
    env: { LIFTBRIDGE_HTTP_PORT: String(httpPort), LIFTBRIDGE_HTTP_HOST: '127.0.0.1' },
    servingTimeoutMs: START_TIMEOUT_MS,
    onSpawned: (child, at) => {
      spawnedAt = at;
      const watch = (chunk: Buffer): void => {
        if (startedLineSeconds !== null || !chunk.includes('liftbridge-ts started')) return;
        startedLineSeconds = seconds(at);
        child.process.stdout?.off('data', watch);
      };
      child.process.stdout?.on('data', watch);
    },
  });
  const servingSeconds = seconds(spawnedAt);
  await pollUntil(() => isReady(httpPort), START_TIMEOUT_MS, `${label} /readyz to answer 200`, 10);
  const readySeconds = seconds(spawnedAt);
  return { server, timings: { servingSeconds, startedLineSeconds: startedLineSeconds as number | null, readySeconds } };
}

/** Starts sampling the CPU of `server`; the function returned gives its use since, in percent of one core. */
function cpuSince(server: StartedLiftbridge): () => number {
  const pid = server.child.process.pid ?? -1;
  const cpu0 = processCpuMs(pid);
  const t0 = process.hrtime.bigint();
  return () => {
    const cpu1 = processCpuMs(pid);
    return cpu0 === null || cpu1 === null ? NaN : (100 * (cpu1 - cpu0)) / (seconds(t0) * 1000);
  };
}

function rssOf(server: StartedLiftbridge): number | null {
  return server.child.process.pid === undefined ? null : processRssBytes(server.child.process.pid);
}

async function stopTimed(server: StartedLiftbridge): Promise<number> {
  const t0 = process.hrtime.bigint();
  const exit = await server.child.stop(STOP_GRACE_MS);
  if (exit.signal === 'SIGKILL') throw new Error(`${server.child.name} did not exit within ${STOP_GRACE_MS} ms of SIGTERM`);
  return seconds(t0);
}

/**
 * The 1-partition server, started like the others: its Publishes are timed in a second pass, the
 * first one warming up the publish path as the thousands of CreateStream calls warm up the others'.
 */
async function measureBaseline(children: ChildRegistry, workDir: string, natsUrl: string, label: string, publishes: number): Promise<Latency> {
  const { server } = await startTimed(children, workDir, natsUrl, label);
  try {
    await createStreams(server.address, 1, 1);
    await publishEach(server.address, randomRequests(1, 1, publishes));
    const result = await publishEach(server.address, randomRequests(1, 1, publishes));
    progress(`${label}: 1 partition: Publish p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
    return result;
  } finally {
    await server.child.stop(STOP_GRACE_MS);
  }
}

async function measurePoint(children: ChildRegistry, workDir: string, natsUrl: string, partitions: number, publishes: number): Promise<PointResult> {
  const label = `p${partitions}`;
  const streams = partitions / PARTITIONS_PER_STREAM;
  progress(`${partitions} partitions (${streams} streams × ${PARTITIONS_PER_STREAM})`);
  const first = await startTimed(children, workDir, natsUrl, label);
  const createStart = process.hrtime.bigint();
  const createMs = await createStreams(first.server.address, streams, PARTITIONS_PER_STREAM);
  const createSeconds = seconds(createStart);
  const rssAfterCreateMB = mb(rssOf(first.server));
  const cpuUsed = cpuSince(first.server);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  const idleCpuPercent = cpuUsed();
  const requests = randomRequests(streams, PARTITIONS_PER_STREAM, publishes);
  const publish = await publishEach(first.server.address, requests);
  const publishAgain = await publishEach(first.server.address, requests);
  const publishOnePartition = await publishEach(first.server.address, randomRequests(1, 1, publishes));
  const stopSeconds = await stopTimed(first.server);
  const second = await startTimed(children, workDir, natsUrl, label);
  const rssAfterRestartMB = mb(rssOf(second.server));
  await stopTimed(second.server);
  fs.rmSync(path.join(workDir, label), { recursive: true, force: true });
  const window = createMs.slice(-CREATE_WINDOW);
  const result: PointResult = {
    partitions,
    streams,
    createSeconds,
    createStream: { ...latency(window), over: window.length },
    rssAfterCreateMB,
    publish,
    publishAgain,
    publishOnePartition,
    idleCpuPercent,
    stopSeconds,
    restart: second.timings,
    rssAfterRestartMB,
  };
  progress(`  ${JSON.stringify(result)}`);
  return result;
}

function printTable(results: readonly PointResult[], baseline: readonly Latency[], publishes: number): void {
  const base = baseline.reduce((sum, b) => sum + b.p50Ms, 0) / baseline.length;
  const f = (n: number | null, digits = 1): string => (n === null || Number.isNaN(n) ? '–' : n.toFixed(digits));
  const out = [
    `\nPartition scale: N/${PARTITIONS_PER_STREAM} streams × ${PARTITIONS_PER_STREAM} partitions; CreateStream over the last ${CREATE_WINDOW}; ${publishes} unary Publishes (LEADER, 100 B) to random partitions`,
    `1-partition baseline: Publish p50 ${baseline.map((b) => b.p50Ms.toFixed(2)).join(' ms (first), ')} ms (last), p99 ${baseline.map((b) => b.p99Ms.toFixed(2)).join(', ')} ms\n`,
    '| partitions | CreateStream p50 / p99 ms | RSS after create MB | idle CPU % | restart: SERVING / started line / ready s | RSS after restart MB | Publish p50 / p99 ms | Publish p50 / 1-partition | same partitions again | all to one partition |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.partitions.toLocaleString('en-US')} | ${f(r.createStream.p50Ms)} / ${f(r.createStream.p99Ms)} | ${f(r.rssAfterCreateMB, 0)} | ${f(r.idleCpuPercent)} | ` +
        `${f(r.restart.servingSeconds, 2)} / ${f(r.restart.startedLineSeconds, 2)} / ${f(r.restart.readySeconds, 2)} | ${f(r.rssAfterRestartMB, 0)} | ` +
        `${f(r.publish.p50Ms, 2)} / ${f(r.publish.p99Ms, 2)} | ${(r.publish.p50Ms / base).toFixed(2)}× | ${(r.publishAgain.p50Ms / base).toFixed(2)}× | ${(r.publishOnePartition.p50Ms / base).toFixed(2)}× |`,
    ),
    `\nload average (1, 5, 15 min) at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}; ${os.cpus().length} CPUs`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

async function main(config: Config, children: ChildRegistry, workDir: string): Promise<void> {
  const loadBefore = os.loadavg();
  const nats = await startNatsServer(children, workDir);
  const baseline = [await measureBaseline(children, workDir, nats.url, 'baseline-first', config.publishes)];
  const results: PointResult[] = [];
  for (const n of config.points) results.push(await measurePoint(children, workDir, nats.url, n, config.publishes));
  baseline.push(await measureBaseline(children, workDir, nats.url, 'baseline-last', config.publishes));
  printTable(results, baseline, config.publishes);
  const file = path.resolve(__dirname, '../.tmp/partition-scale.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const machine = { cpus: os.cpus().length, node: process.version, natsServer: nats.version, loadBefore, loadAfter: os.loadavg() };
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, config, baseline, results }, null, 2));
}

function run(): void {
  let config: Config | null;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  if (config === null) return void process.stdout.write(`${USAGE}\n`);
  const guard = new OrphanGuard();
  const children = new ChildRegistry(guard);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-bench-scale-'));
  guard.removeOnOrphan(workDir);
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= children.stopAll().finally(() => {
      fs.rmSync(workDir, { recursive: true, force: true });
      guard.release();
    }));
  const abort = (why: string, code: number): void => {
    progress(`${why}; stopping the child processes`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted (SIGINT)', 130));
  process.once('SIGTERM', () => abort('terminated (SIGTERM)', 143));
  process.on('exit', () => children.killAllNow());
  main(config, children, workDir).then(
    () => cleanup().finally(() => process.exit(0)),
    (error: unknown) => abort(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
  );
}

run();
