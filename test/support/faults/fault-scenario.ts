import { performance } from 'node:perf_hooks';
import { call } from '../api-calls';
import { waitFor } from '../ports';
import { ClusterViews } from './cluster-views';
import { FaultCluster } from './fault-cluster';
import { readFinalLogs } from './final-reads';
import { allBlockedMs, figuresOf, recordFigures, recoverMs, ScenarioFigures } from './figures';
import { emptyHistory, History } from './history';
import { checkHistory, CheckReport, describeReport } from './history-checker';
import { Workload } from './workload';

export const PARTITIONS = 3;

/**
 * One scenario on a running FaultCluster (docs/reliability.md): its own two streams and workload,
 * started and warmed up by `begin`; the test injects the fault and heals it, marking the times;
 * `finish` heals whatever is left, waits for quiescence, reads the final logs and runs the checker.
 */
export class FaultScenario {
  readonly history: History = emptyHistory();
  readonly views: ClusterViews;
  readonly workload: Workload;
  readonly streams: readonly { name: string; partitions: number }[];
  private readonly startedMs = performance.now();

  private constructor(
    readonly cluster: FaultCluster,
    readonly name: string,
  ) {
    this.views = new ClusterViews(cluster);
    this.streams = [{ name: `${name}-all`, partitions: PARTITIONS }, { name: `${name}-leader`, partitions: 1 }];
    this.workload = new Workload(cluster, { all: `${name}-all`, allPartitions: PARTITIONS, leader: `${name}-leader` }, this.history);
    cluster.onStop(() => this.workload.stop());
  }

  get allStream(): string {
    return this.streams[0]!.name;
  }

  static async begin(cluster: FaultCluster, name: string): Promise<FaultScenario> {
    const scenario = new FaultScenario(cluster, name);
    const via = cluster.awake()[0]!;
    const client = cluster.client(via);
    await call(client.createStream, client, { name: `${name}-all`, subject: `${name}-all`, replicationFactor: 3, partitions: PARTITIONS, minIsr: { value: 2 } });
    await call(client.createStream, client, { name: `${name}-leader`, subject: `${name}-leader`, replicationFactor: 3, partitions: 1 });
    await scenario.views.waitQuiescent(scenario.streams, 20_000);
    await scenario.workload.start();
    await scenario.waitWritesFlowing(performance.now(), 20_000);
    return scenario;
  }

  now(): number {
    return performance.now();
  }

  /** Until every ALL partition acked a publish invoked at or after `sinceMs`. */
  async waitWritesFlowing(sinceMs: number, timeoutMs: number): Promise<void> {
    await waitFor(() => recoverMs(this.history.attempts, this.allStream, PARTITIONS, sinceMs) !== null, timeoutMs, `ALL acks on every partition of ${this.allStream}`);
  }

  async partition(p = 0): Promise<{ leader: string; isr: readonly string[]; replicas: readonly string[] }> {
    const meta = await this.views.partition(this.allStream, p);
    if (!meta) throw new Error(`no metadata for ${this.allStream}/${p}`);
    return meta;
  }

  /** A follower of partition `p`: a replica that is not its leader. */
  async follower(p = 0): Promise<string> {
    const meta = await this.partition(p);
    return meta.replicas.find((id) => id !== meta.leader)!;
  }

  blockedMs(fromMs: number, toMs: number): number {
    return allBlockedMs(this.history.attempts, this.allStream, PARTITIONS, fromMs, toMs);
  }

  recoveredMs(sinceMs: number): number | null {
    return recoverMs(this.history.attempts, this.allStream, PARTITIONS, sinceMs);
  }

  /** Heals, waits for quiescence (60 s, else a liveness failure), reads the final logs, checks the history. */
  async finish(): Promise<CheckReport> {
    this.cluster.heal();
    await this.workload.stopPublishing();
    await this.views.waitQuiescent(this.streams, 60_000);
    // Consumers catch up with the committed end before the final read.
    await waitFor(async () => {
      for (const s of this.streams) {
        for (let p = 0; p < s.partitions; p++) {
          const meta = await this.views.partition(s.name, p);
          const pos = meta && (await this.views.positions(s.name, p, meta.leader));
          if (!pos) return false;
          const delivered = this.history.deliveries.filter((d) => d.stream === s.name && d.partition === p).at(-1)?.offset ?? -1;
          if (delivered < pos.hw) return false;
        }
      }
      return true;
    }, 20_000, 'consumers to reach the high watermarks');
    await this.workload.stop();
    const logs = await readFinalLogs(this.cluster, this.streams);
    this.history.finalLogs.push(...logs.finalLogs);
    this.history.replicaLogs.push(...logs.replicaLogs);
    return checkHistory(this.history);
  }

  /** Records the figures (.tmp/faults/results.jsonl) and prints them with the checker's summary. */
  record(fault: string, report: CheckReport, times: { recoverMs: number | null; allBlockedMs: number }, extra: Record<string, number | string | boolean | null> = {}): ScenarioFigures {
    const figures = figuresOf(this.name, fault, report, times, { durationMs: Math.round(performance.now() - this.startedMs), ...extra });
    recordFigures(figures);
    if (process.env.FAULTS_VERBOSE) console.log(`${this.name}: ${JSON.stringify(figures)}\n${describeReport(report)}`);
    return figures;
  }
}

/** The assertion every scenario ends with: no error anomaly, no acknowledged ALL record lost. */
export function expectClean(report: CheckReport): void {
  if (report.errors.length > 0 || report.lostAll > 0) throw new Error(`the checker found anomalies:\n${describeReport(report)}`);
  if (report.ackedAll === 0) throw new Error('no ALL publish was acknowledged: the scenario checked nothing');
}
