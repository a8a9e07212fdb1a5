import * as fs from 'node:fs';
import * as path from 'node:path';
import { PublishAttempt } from './history';
import { CheckReport } from './history-checker';

/**
 * The figures each scenario records (docs/reliability.md, results table): acknowledged records
 * lost, time to recover, and how long AckPolicy ALL publishes were blocked.
 */
export interface ScenarioFigures {
  readonly scenario: string;
  readonly fault: string;
  readonly ackedAll: number;
  readonly lostAll: number;
  readonly ackedLeader: number;
  readonly lostLeader: number;
  readonly retryDuplicates: number;
  /** From the heal (or the end of the fault) to the first ALL ack of a publish sent after it, worst partition. */
  readonly recoverMs: number | null;
  /** Longest time without any ALL ack on a partition while the fault lasted, worst partition. */
  readonly allBlockedMs: number;
  readonly anomalies: number;
  readonly extra: Readonly<Record<string, number | string | boolean | null>>;
}

function okCompletions(attempts: readonly PublishAttempt[], stream: string, partition: number): number[] {
  return attempts
    .filter((a) => a.stream === stream && a.partition === partition && a.ackMode === 'all' && a.result.type === 'ok')
    .map((a) => a.completedMs)
    .sort((x, y) => x - y);
}

/** The longest span without an ALL ack on one partition that overlaps [fromMs, toMs], over the partitions. */
export function allBlockedMs(attempts: readonly PublishAttempt[], stream: string, partitions: number, fromMs: number, toMs: number): number {
  let worst = 0;
  for (let p = 0; p < partitions; p++) {
    const times = okCompletions(attempts, stream, p);
    let previous = times.filter((t) => t <= fromMs).at(-1) ?? fromMs;
    for (const t of times) {
      if (t <= fromMs) continue;
      worst = Math.max(worst, t - previous);
      previous = t;
      if (t >= toMs) break;
    }
    if (previous < toMs && !times.some((t) => t >= toMs)) worst = Math.max(worst, toMs - previous);
  }
  return Math.round(worst);
}

/** From `sinceMs` to the first ALL ack of a publish invoked at or after it, worst partition (null if one never recovered). */
export function recoverMs(attempts: readonly PublishAttempt[], stream: string, partitions: number, sinceMs: number): number | null {
  let worst = 0;
  for (let p = 0; p < partitions; p++) {
    const first = attempts
      .filter((a) => a.stream === stream && a.partition === p && a.ackMode === 'all' && a.result.type === 'ok' && a.invokedMs >= sinceMs)
      .reduce((min, a) => Math.min(min, a.completedMs), Number.POSITIVE_INFINITY);
    if (!Number.isFinite(first)) return null;
    worst = Math.max(worst, first - sinceMs);
  }
  return Math.round(worst);
}

export function figuresOf(
  scenario: string,
  fault: string,
  report: CheckReport,
  times: { recoverMs: number | null; allBlockedMs: number },
  extra: Record<string, number | string | boolean | null> = {},
): ScenarioFigures {
  return {
    scenario, fault,
    ackedAll: report.ackedAll, lostAll: report.lostAll, ackedLeader: report.ackedLeader, lostLeader: report.lostLeader,
    retryDuplicates: report.retryDuplicates, recoverMs: times.recoverMs, allBlockedMs: times.allBlockedMs,
    anomalies: report.errors.length, extra,
  };
}

/** Appends one result line to .tmp/faults/results.jsonl (the source of docs/reliability.md's table). */
export function recordFigures(figures: ScenarioFigures): void {
  const dir = path.resolve(__dirname, '../../../.tmp/faults');
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, 'results.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), tier: process.env.FAULTS_TIER ?? 'pr', ...figures })}\n`);
}
