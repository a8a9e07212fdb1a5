/**
 * `npm run bench`: starts its own nats-server (JetStream, temp store), liftbridge-ts servers and a
 * gRPC ceiling server (and, for the cluster phase only, a three-server liftbridge-ts cluster and a
 * three-node JetStream cluster), runs every case in bench/cases for each message size several times, prints
 * progress to stderr and the table to stdout, writes .tmp/bench-results.json, and stops every
 * child it started (also on error and SIGINT/SIGTERM). Not a test: it measures and reports.
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApiClient, type ApiClient } from '../src/protocol/api-service-definition';
import { allCases as everyCase, roundOrder } from './cases';
import { computeRatios, renderReport, summarize, writeResultsJson, type CaseResult } from './report';
import { parseArgs, USAGE, UsageError } from './support/args';
import { startCeilingServer } from './support/ceiling-server';
import { ChildRegistry, type ManagedChild } from './support/children';
import { startJetStreamCluster } from './support/jetstream-cluster';
import { startLiftbridgeCluster } from './support/liftbridge-cluster';
import { isServing, startLiftbridge, type StartedLiftbridge } from './support/liftbridge-server';
import { describeMachine } from './support/machine';
import { OrphanGuard } from './support/orphan-guard';
import { CpuMeter } from './support/process-cpu';
import { startNatsServer } from './support/nats-server';
import type { BenchCase, BenchConfig, BenchContext } from './types';
import { timedCpu } from './support/timed-cpu';

const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const sizeLabel = (size: number): string => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Owns the child processes and the temp directory; cleanup is idempotent. */
class Environment {
  private readonly guard = new OrphanGuard();
  readonly children = new ChildRegistry(this.guard);
  readonly workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-bench-'));
  control: ApiClient | undefined;
  controlOff: ApiClient | undefined;
  controlTwin: ApiClient | undefined;
  controlCluster: ApiClient | undefined;
  private cleaning: Promise<void> | undefined;

  constructor() {
    this.guard.removeOnOrphan(this.workDir);
  }

  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      this.control?.close();
      this.controlOff?.close();
      this.controlTwin?.close();
      this.controlCluster?.close();
      await this.children.stopAll();
      fs.rmSync(this.workDir, { recursive: true, force: true });
      this.guard.release();
    })();
    return this.cleaning;
  }
}

/**
 * One untimed round of every case at every size, before anything is timed, so that JIT compilation,
 * heap sizing and connection buffers in this process and in the servers are not charged to whichever
 * runs come first. A liftbridge-ts server reaches its steady rate only after a few hundred thousand
 * messages (measured: 60k → 78k → 98k msgs/s over three 100k-message runs of 1 KiB after a short
 * warm-up), so the pass uses the timed counts, except for the slow unary case. JetStream, the
 * ceiling and core NATS get the same pass. Failures are only reported here: the timed runs fail on
 * their own.
 */
async function warmUp(ctx: BenchContext, cases: readonly BenchCase[]): Promise<void> {
  const c = ctx.config;
  const warm: BenchConfig = { ...c, unaryCount: Math.min(c.unaryCount, 1000) };
  const warmCtx: BenchContext = { ...ctx, config: warm, progress: () => undefined };
  const t0 = process.hrtime.bigint();
  for (const size of c.sizes) {
    for (const benchCase of cases) {
      try {
        await benchCase.run(warmCtx, size, 0);
      } catch (error) {
        progress(`bench: warm-up of ${benchCase.title} at ${sizeLabel(size)} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  progress(`bench: warm-up round of ${cases.length} case(s) done in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s (untimed)`);
}

/** A full GC of the bench process (node --expose-gc, as `npm run bench` starts it); nothing without it. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The cases this run measures (`--cases`), in table order. */
function selectedCases(config: BenchConfig): readonly BenchCase[] {
  if (config.cases === undefined) return everyCase;
  const unknown = config.cases.filter((id) => !everyCase.some((c) => c.id === id));
  if (unknown.length > 0) throw new UsageError(`unknown case id ${unknown.join(', ')}; ids: ${everyCase.map((c) => c.id).join(', ')}`);
  return everyCase.filter((c) => config.cases!.includes(c.id));
}

type LiftbridgeServer = NonNullable<BenchCase['liftbridge']>;

/** Why a liftbridge-ts server cannot serve the remaining cases (exited or not answering), or null. */
type LiftbridgeCheck = (server: LiftbridgeServer) => Promise<string | null>;

/** "bench 5.1, nats-server 5.8, idle 3.0 µs/msg": where a run's CPU went, per message. */
function describeCpu(cpuMs: Readonly<Record<string, number>>, messages: number): string {
  const perMessage = Object.entries(cpuMs).map(([label, ms]) => `${label} ${((ms * 1000) / messages).toFixed(1)}`);
  return `cpu µs/msg: ${perMessage.join(', ')}`;
}

async function runCases(
  singleNodeCtx: BenchContext,
  startClusters: () => Promise<BenchContext>,
  liftbridgeProblem: LiftbridgeCheck,
  cpu: CpuMeter,
): Promise<CaseResult[]> {
  const liftbridgeDown = new Map<LiftbridgeServer, string>();
  const { config } = singleNodeCtx;
  const allCases = selectedCases(config);
  const results: CaseResult[] = [];
  for (const size of config.sizes) for (const c of allCases) results.push({ id: c.id, title: c.title, size, samples: [] });
  // Single-node cases first, then the cluster cases (see BenchCase.phase); each phase warmed up.
  for (const phase of [undefined, 'clusters'] as const) {
    const cases = allCases.filter((c) => c.phase === phase);
    if (cases.length === 0) continue;
    const ctx = phase === 'clusters' ? await startClusters() : singleNodeCtx;
    await warmUp(ctx, cases);
    // Rounds interleave the cases, so that slow drift of this noisy machine spreads over all of them.
    for (const size of config.sizes) {
      for (let run = 1; run <= config.runs; run++) {
        for (const c of roundOrder(run).filter((c) => cases.includes(c))) {
          const result = results.find((r) => r.id === c.id && r.size === size)!;
          if (result.error) continue;
          const label = `[${sizeLabel(size)} run ${run}/${config.runs}] ${c.title}`;
          const needsLiftbridge = c.id.startsWith('lb-');
          const server: LiftbridgeServer = c.liftbridge ?? 'main';
          const down = needsLiftbridge ? liftbridgeDown.get(server) : undefined;
          if (down) {
            result.error = `skipped: ${down.split('\n')[0]}`;
            progress(`${label}: ${result.error}`);
            continue;
          }
          try {
            // The bench process is every case's client: collect the previous cases' garbage now, so
            // that its GC work is not charged to whichever case runs next.
            collectGarbage();
            const before = cpu.snapshot();
            timedCpu.take();
            const measured = { ...(await c.run(ctx, size, run)), ...cpu.since(before) };
            const clientCpuMs = timedCpu.take();
            const sample = clientCpuMs === null ? measured : { ...measured, clientCpuMs };
            result.samples.push(sample);
            const extra = sample.p50Ms !== undefined ? `, p50 ${sample.p50Ms.toFixed(2)} ms, p99 ${sample.p99Ms!.toFixed(2)} ms` : '';
            progress(`${label}: ${int(sample.messages / sample.seconds)} msgs/s (${int(sample.messages)} in ${sample.seconds.toFixed(2)} s${extra}; ${describeCpu(sample.cpuMs, sample.messages)}; disk ${int(sample.diskWrittenMB)} MB written)`);
          } catch (error) {
            result.error = (error as Error).message;
            progress(`${label}: FAILED: ${result.error}`);
            if (needsLiftbridge) {
              const problem = await liftbridgeProblem(server);
              if (problem) {
                liftbridgeDown.set(server, problem);
                progress(`bench: ${problem}`);
              }
            }
          }
        }
      }
    }
  }
  return results;
}

async function main(config: BenchConfig, env: Environment): Promise<number> {
  const startedAt = new Date();
  const t0 = process.hrtime.bigint();
  progress(`bench: work dir ${env.workDir}`);
  const nats = await startNatsServer(env.children, env.workDir);
  progress(`bench: nats-server (JetStream) at ${nats.url}`);
  const liftbridge = await startLiftbridge(env.children, env.workDir, nats.url);
  progress(`bench: liftbridge-ts (metrics on) at ${liftbridge.address} (pid ${liftbridge.child.process.pid})`);
  // Second server on the same nats-server with metrics off, for the metrics-overhead pair of cases.
  const liftbridgeOff = await startLiftbridge(env.children, env.workDir, nats.url, { label: 'liftbridge-metrics-off', metricsEnabled: false });
  progress(`bench: liftbridge-ts (metrics off) at ${liftbridgeOff.address} (pid ${liftbridgeOff.child.process.pid})`);
  // Its twin with metrics on: same history as the metrics-off server (only the acked NATS publish
  // case runs on either), so on/off between the two is not skewed by the main server's other load.
  const liftbridgeTwin = await startLiftbridge(env.children, env.workDir, nats.url, { label: 'liftbridge-metrics-on-twin', metricsEnabled: true });
  progress(`bench: liftbridge-ts (metrics on, twin) at ${liftbridgeTwin.address} (pid ${liftbridgeTwin.child.process.pid})`);
  const ceiling = await startCeilingServer(env.children);
  progress(`bench: gRPC ceiling server at ${ceiling.address} (pid ${ceiling.child.process.pid})`);
  env.control = createApiClient(liftbridge.address, grpc.credentials.createInsecure());
  env.controlOff = createApiClient(liftbridgeOff.address, grpc.credentials.createInsecure());
  env.controlTwin = createApiClient(liftbridgeTwin.address, grpc.credentials.createInsecure());

  const ctx: BenchContext = {
    config,
    natsUrl: nats.url,
    liftbridgeAddress: liftbridge.address,
    ceilingAddress: ceiling.address,
    control: env.control,
    metricsOff: { address: liftbridgeOff.address, control: env.controlOff },
    metricsOnTwin: { address: liftbridgeTwin.address, control: env.controlTwin },
    cluster: null,
    jetStreamCluster: null,
    children: env.children,
    progress,
  };
  // CPU per process group for every timed run (includes each case's setup, e.g. stream creation).
  const pidsOf = (children: readonly ManagedChild[]): number[] =>
    children.map((c) => c.process.pid).filter((pid): pid is number => pid !== undefined);
  const clusterPids: number[] = [];
  const jetStreamClusterPids: number[] = [];
  const clusterServers: StartedLiftbridge[] = [];
  /**
   * Replication: a three-server liftbridge-ts cluster on the same nats-server, and JetStream's own
   * three-node cluster, started when the cluster phase begins: idle, they would still take CPU
   * (heartbeats, timers) from every single-node run.
   */
  const startClusters = async (): Promise<BenchContext> => {
    const cluster = await startLiftbridgeCluster(env.children, env.workDir, nats.url);
    clusterServers.push(...cluster.servers);
    const seed = cluster.servers[0]!;
    progress(`bench: liftbridge-ts cluster of ${cluster.servers.length} at ${cluster.servers.map((s) => `${s.address} (pid ${s.child.process.pid})`).join(', ')}`);
    const jetStreamCluster = await startJetStreamCluster(env.children, env.workDir);
    progress(`bench: nats-server JetStream cluster at ${jetStreamCluster.servers.map((s) => `${s.name} ${s.url}`).join(', ')}`);
    clusterPids.push(...pidsOf(cluster.servers.map((s) => s.child)));
    jetStreamClusterPids.push(...pidsOf(jetStreamCluster.children));
    env.controlCluster = createApiClient(seed.address, grpc.credentials.createInsecure());
    return { ...ctx, cluster: { address: seed.address, control: env.controlCluster }, jetStreamCluster: { servers: jetStreamCluster.servers } };
  };
  const liftbridgeProblem: LiftbridgeCheck = async (server) => {
    if (server === 'cluster') {
      for (const node of clusterServers) {
        if (!node.child.running) return `liftbridge-ts cluster server ${node.child.name} exited; its last output:\n${node.child.logs}`;
        if (!(await isServing(node.address, 3_000))) {
          return `liftbridge-ts cluster server ${node.child.name} (pid ${node.child.process.pid}) does not answer its health check within 3 s (hung?); its last output:\n${node.child.logs}`;
        }
      }
      return null;
    }
    const lb = server === 'main' ? liftbridge : server === 'metrics-off' ? liftbridgeOff : liftbridgeTwin;
    const which = { main: 'the liftbridge-ts server', 'metrics-off': 'the liftbridge-ts server with metrics off', 'metrics-on-twin': 'the twin liftbridge-ts server with metrics on' }[server];
    if (!lb.child.running) return `${which} exited; its last output:\n${lb.child.logs}`;
    if (!(await isServing(lb.address, 3_000))) {
      return `${which} (pid ${lb.child.process.pid}) does not answer its health check within 3 s (hung?); its last output:\n${lb.child.logs}`;
    }
    return null;
  };
  const cpu = new CpuMeter([
    { label: 'nats-server', pids: nats.pid === undefined ? [] : [nats.pid] },
    { label: 'lb', pids: pidsOf([liftbridge.child]) },
    { label: 'lb-off', pids: pidsOf([liftbridgeOff.child]) },
    { label: 'lb-twin', pids: pidsOf([liftbridgeTwin.child]) },
    { label: 'lb-cluster', pids: clusterPids },
    { label: 'js-cluster', pids: jetStreamClusterPids },
    { label: 'ceiling', pids: pidsOf([ceiling.child]) },
  ]);
  const results = await runCases(ctx, startClusters, liftbridgeProblem, cpu);

  const elapsedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const machine = describeMachine(nats.version);
  const summaries = results.map(summarize);
  const ratios = computeRatios(summaries, config.sizes);
  process.stdout.write(`${renderReport(config, machine, selectedCases(config), summaries, ratios, elapsedSeconds)}\n`);
  const servers = [
    { label: 'main', address: liftbridge.address, metricsEnabled: liftbridge.metricsEnabled },
    { label: 'metrics-off', address: liftbridgeOff.address, metricsEnabled: liftbridgeOff.metricsEnabled },
    { label: 'metrics-on-twin', address: liftbridgeTwin.address, metricsEnabled: liftbridgeTwin.metricsEnabled },
    ...clusterServers.map((s) => ({ label: s.child.name, address: s.address, metricsEnabled: s.metricsEnabled })),
  ];
  writeResultsJson(config.resultsPath, { startedAt: startedAt.toISOString(), elapsedSeconds, config, machine, servers, results, summaries, ratios });
  progress(`bench: results written to ${path.relative(process.cwd(), config.resultsPath) || config.resultsPath}`);
  const failed = results.filter((r) => r.error);
  for (const r of failed) progress(`bench: FAILED ${r.title} at ${sizeLabel(r.size)}: ${r.error!.split('\n')[0]}`);
  return failed.length ? 1 : 0;
}

function start(): void {
  let config: BenchConfig | null;
  try {
    config = parseArgs(process.argv.slice(2));
    if (config) selectedCases(config);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (!config) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const env = new Environment();
  const abort = (why: string, code: number): void => {
    progress(`bench: ${why}; stopping the child processes`);
    void env.cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted (SIGINT)', 130));
  process.once('SIGTERM', () => abort('terminated (SIGTERM)', 143));
  process.on('uncaughtException', (error) => abort(`uncaught exception: ${error.stack ?? error.message}`, 1));
  process.on('unhandledRejection', (reason) => abort(`unhandled rejection: ${String(reason)}`, 1));
  process.on('exit', () => env.children.killAllNow());
  main(config, env).then(
    (code) => env.cleanup().finally(() => process.exit(code)),
    (error: unknown) => abort(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
  );
}

start();
