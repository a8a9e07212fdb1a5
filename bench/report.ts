import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MachineInfo } from './support/machine';
import { median } from './support/stats';
import type { BenchCase, BenchConfig, CaseId, Sample } from './types';

/** Everything measured for one case at one size. */
export interface CaseResult {
  readonly id: CaseId;
  readonly title: string;
  readonly size: number;
  readonly samples: Sample[];
  error?: string;
}

export interface CaseSummary {
  readonly id: CaseId;
  readonly title: string;
  readonly size: number;
  readonly runs: number;
  readonly medianMsgsPerSec: number;
  readonly minMsgsPerSec: number;
  readonly maxMsgsPerSec: number;
  /** Payload (Message.value) megabytes (10^6 bytes) per second at the median rate. */
  readonly medianMBPerSec: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly wireBytesPerMessage?: number;
  /** The bench process's (the client's) CPU per message and in cores, over the timed part. */
  readonly clientUsPerMessage?: number;
  readonly clientCores?: number;
  /** Failover cases: over every partition of every run, ms from the death to the partition read again. */
  readonly failover?: { readonly minMs: number; readonly medianMs: number; readonly maxMs: number; readonly partitions: number; readonly consumerTimeoutMs: number };
  readonly error?: string;
}

/** Above this the client may be what limits the case (two cores: it takes CPU from the servers). */
export const CLIENT_CORES_MAX = 0.5;

export interface Ratio {
  readonly name: string;
  readonly size: number;
  readonly value: number | null;
  readonly target?: number;
  /** The only size the target applies to (absent: every size). */
  readonly targetSize?: number;
  /** Whether this entry meets its target: null when not measured, absent when no target applies. */
  readonly met?: boolean | null;
}

interface RatioDefinition {
  readonly name: string;
  readonly numerator: CaseId;
  readonly denominator: CaseId;
  readonly target?: number;
  readonly targetSize?: number;
}

const RATIOS: readonly RatioDefinition[] = [
  { name: 'acked NATS publish / JetStream R1', numerator: 'lb-nats-publish', denominator: 'jetstream-r1', target: 1.0 },
  { name: 'PublishAsync / JetStream R1', numerator: 'lb-publish-async', denominator: 'jetstream-r1' },
  { name: 'catch-up Subscribe / gRPC ceiling', numerator: 'lb-catchup-subscribe', denominator: 'grpc-ceiling', target: 0.9 },
  { name: 'acked NATS publish / core NATS', numerator: 'lb-nats-publish', denominator: 'core-nats' },
  { name: 'PublishAsync / core NATS', numerator: 'lb-publish-async', denominator: 'core-nats' },
  // Target: the client's pipelined publisher against the raw PublishAsync loop (100-byte messages).
  // Both on grpc-js, so the ratio is the library's own cost (the lean PublishAsync client is not a grpc-js one).
  { name: 'client AsyncPublisher / PublishAsync (grpc-js)', numerator: 'lb-client-async-publisher', denominator: 'lb-publish-async-grpcjs', target: 0.8, targetSize: 100 },
  { name: 'PublishAsync grpc-js / lean client', numerator: 'lb-publish-async-grpcjs', denominator: 'lb-publish-async' },
  // Target: metrics overhead on the publish path, < 5 % throughput loss. Compared between two
  // servers with the same history, differing only in metrics.enabled: the main server carries every
  // other case, and an A/A run (both with metrics) showed that history alone is worth 1.14-1.30x.
  { name: 'acked NATS publish on / off (twin servers)', numerator: 'lb-nats-publish-metrics-on-twin', denominator: 'lb-nats-publish-metrics-off', target: 0.95 },
  // Target: replicated publishes. AckPolicy ALL on R3 (minIsr 2) against JetStream R3 (each on its
  // own three-node cluster), and against single-replica figures: ALL on an R1 stream of the same
  // cluster (same servers, same ack policy), and the single-node LEADER case.
  // One at a time, the same nats-server: JetStream's publish latency is the platform's floor for a
  // request that is stored and acknowledged (msgs/s of one-at-a-time calls: the inverse mean latency).
  { name: 'unary Publish / JetStream R1 (1 at a time)', numerator: 'lb-publish-unary', denominator: 'jetstream-r1-unary' },
  { name: 'SetCursor / unary Publish ALL', numerator: 'lb-set-cursor', denominator: 'lb-publish-unary-all', target: 0.9 },
  { name: 'replicated ALL R3 / JetStream R3', numerator: 'lb-nats-publish-all-r3', denominator: 'jetstream-r3', target: 1.0 },
  { name: 'replicated ALL R3 / ALL R1 (same cluster)', numerator: 'lb-nats-publish-all-r3', denominator: 'lb-nats-publish-all-r1' },
  { name: 'replicated ALL R3 / acked NATS publish', numerator: 'lb-nats-publish-all-r3', denominator: 'lb-nats-publish' },
  { name: 'JetStream R3 / JetStream R1', numerator: 'jetstream-r3', denominator: 'jetstream-r1' },
];

const appliesTo = (r: { target?: number; targetSize?: number }, size: number): boolean =>
  r.target !== undefined && (r.targetSize === undefined || r.targetSize === size);

const medianOf = (samples: readonly Sample[], pick: (s: Sample) => number | undefined): number | undefined => {
  const values = samples.map(pick).filter((v): v is number => v !== undefined);
  return values.length ? median(values) : undefined;
};

/** The client's CPU in the timed part, or over the whole run (setup included) when the case does not time one. */
const clientCpuMs = (s: Sample): number | undefined => s.clientCpuMs ?? s.cpuMs?.bench;
const mapDefined = <T, U>(v: T | undefined, f: (v: T) => U): U | undefined => (v === undefined ? undefined : f(v));
function summarizeFailover(samples: readonly Sample[]): CaseSummary['failover'] {
  const times = samples.flatMap((s) => s.failover?.partitionsMs ?? []);
  const timeout = samples.find((s) => s.failover !== undefined)?.failover?.consumerTimeoutMs;
  if (times.length === 0 || timeout === undefined) return undefined;
  return { minMs: Math.min(...times), medianMs: median(times), maxMs: Math.max(...times), partitions: times.length, consumerTimeoutMs: timeout };
}

export function summarize(result: CaseResult): CaseSummary {
  const rates = result.samples.map((s) => s.messages / s.seconds);
  const medianRate = rates.length ? median(rates) : NaN;
  return {
    id: result.id,
    title: result.title,
    size: result.size,
    runs: result.samples.length,
    medianMsgsPerSec: medianRate,
    minMsgsPerSec: rates.length ? Math.min(...rates) : NaN,
    maxMsgsPerSec: rates.length ? Math.max(...rates) : NaN,
    medianMBPerSec: (medianRate * result.size) / 1e6,
    p50Ms: medianOf(result.samples, (s) => s.p50Ms),
    p99Ms: medianOf(result.samples, (s) => s.p99Ms),
    wireBytesPerMessage: medianOf(result.samples, (s) => s.wireBytesPerMessage),
    clientUsPerMessage: medianOf(result.samples, (s) => mapDefined(clientCpuMs(s), (ms) => (ms * 1000) / s.messages)),
    clientCores: medianOf(result.samples, (s) => mapDefined(clientCpuMs(s), (ms) => ms / (s.seconds * 1000))),
    failover: summarizeFailover(result.samples),
    error: result.error,
  };
}

export function computeRatios(summaries: readonly CaseSummary[], sizes: readonly number[]): Ratio[] {
  const rate = (id: CaseId, size: number): number | undefined => {
    const s = summaries.find((x) => x.id === id && x.size === size);
    return s && !s.error && s.runs > 0 ? s.medianMsgsPerSec : undefined;
  };
  return RATIOS.flatMap((r) =>
    sizes.map((size) => {
      const num = rate(r.numerator, size);
      const den = rate(r.denominator, size);
      const value = num !== undefined && den ? num / den : null;
      const ratio: Ratio = { name: r.name, size, value, target: r.target, targetSize: r.targetSize };
      return appliesTo(r, size) ? { ...ratio, met: value === null ? null : value >= r.target! } : ratio;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Text

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const sizeLabel = (size: number): string => (size >= 1024 && size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`);
const pad = (s: string, n: number): string => s.padEnd(n);
const CASE_COLUMN = 44;
/** 1.0x, 0.8x, 0.95x: as many decimals as the target has (at least one). */
const targetLabel = (t: number): string => `${t.toFixed(Number.isInteger(t * 10) ? 1 : 2)}x`;
const lpad = (s: string, n: number): string => s.padStart(n);

/** Target of the member-death case: partitions read again within the consumer timeout + 1 s. */
const FAILOVER_SLACK_MS = 1000;

function failoverNote(f: NonNullable<CaseSummary['failover']>): string {
  const x = (ms: number): string => `${(ms / f.consumerTimeoutMs).toFixed(2)}x`;
  const verdict = f.maxMs <= f.consumerTimeoutMs + FAILOVER_SLACK_MS ? 'met' : 'NOT met';
  return (
    `death -> read again over ${f.partitions} partitions: min ${int(f.minMs)} / median ${int(f.medianMs)} / max ${int(f.maxMs)} ms ` +
    `(${x(f.minMs)} / ${x(f.medianMs)} / ${x(f.maxMs)} of the consumer timeout ${int(f.consumerTimeoutMs)} ms); max <= timeout + 1 s: ${verdict}`
  );
}

function notes(s: CaseSummary): string {
  if (s.error) return s.error.startsWith('skipped:') ? s.error.split('\n')[0] : `FAILED: ${s.error.split('\n')[0]}`;
  const parts: string[] = [];
  if (s.failover !== undefined) return failoverNote(s.failover);
  if (s.p50Ms !== undefined) parts.push(`p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms!.toFixed(2)} ms`);
  if (s.wireBytesPerMessage !== undefined) parts.push(`${Math.round(s.wireBytesPerMessage)} B/msg as Message`);
  if (s.clientCores !== undefined) {
    const bound = s.clientCores > CLIENT_CORES_MAX ? ` CLIENT-BOUND? (> ${CLIENT_CORES_MAX} core)` : '';
    parts.push(`client ${s.clientUsPerMessage!.toFixed(1)} µs/msg, ${s.clientCores.toFixed(2)} cores${bound}`);
  }
  if (s.error === undefined && s.runs === 0) parts.push('not run');
  return parts.join('; ');
}

export function renderReport(
  config: BenchConfig,
  machine: MachineInfo,
  cases: readonly BenchCase[],
  summaries: readonly CaseSummary[],
  ratios: readonly Ratio[],
  elapsedSeconds: number,
): string {
  const lines: string[] = [];
  lines.push(
    `liftbridge-ts benchmark: ${config.runs} run(s) per case and size, median (min-max)${config.quick ? ' [--quick]' : ''}`,
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}; node ${machine.node}; ${machine.natsServer}`,
    `counts per run: core NATS ${int(config.coreCount)}, pipelined publishes ${int(config.publishCount)} (window ${config.window}), ` +
      `client AsyncPublisher maxInFlight ${config.clientWindow}, unary Publish ${int(config.unaryCount)}, catch-up/ceiling ${int(config.catchupCount)}; MB/s = payload 10^6 bytes/s`,
    `liftbridge-ts servers: main (metrics on, the default); "(metrics off)": LIFTBRIDGE_METRICS_ENABLED=false; "(on, twin)": metrics on, same load as "(metrics off)"`,
    `replicated cases: "ALL, R3"/"ALL, R1 (cluster)" on a 3-server liftbridge-ts cluster (same nats-server); JetStream R3 on its own 3-node nats-server cluster`,
    '',
  );
  const header = `${pad('case', CASE_COLUMN)} ${pad('size', 7)} ${lpad('msgs/s median', 14)} ${pad('(min-max)', 25)} ${lpad('MB/s', 8)}  notes`;
  lines.push(header, '-'.repeat(header.length + 20));
  for (const size of config.sizes) {
    for (const c of cases) {
      const s = summaries.find((x) => x.id === c.id && x.size === size);
      if (!s) continue;
      // A failover case measures times, not a rate: its rate columns stay empty.
      const rated = s.runs > 0 && s.failover === undefined;
      const range = rated ? `(${int(s.minMsgsPerSec)}-${int(s.maxMsgsPerSec)})` : '';
      const mbps = rated ? s.medianMBPerSec.toFixed(1) : '-';
      lines.push(`${pad(c.title, CASE_COLUMN)} ${pad(sizeLabel(size), 7)} ${lpad(rated ? int(s.medianMsgsPerSec) : '-', 14)} ${pad(range, 25)} ${lpad(mbps, 8)}  ${notes(s)}`);
    }
    lines.push('');
  }
  const ratioHeader = `${pad('ratio (of medians)', CASE_COLUMN)} ${config.sizes.map((size) => lpad(sizeLabel(size), 9)).join(' ')}   target`;
  lines.push(ratioHeader, '-'.repeat(ratioHeader.length + 10));
  for (const name of [...new Set(ratios.map((r) => r.name))]) {
    const row = ratios.filter((r) => r.name === name);
    const target = row[0]?.target;
    const cells = config.sizes.map((size) => {
      const v = row.find((r) => r.size === size)?.value;
      return lpad(v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}x`, 9);
    });
    let verdict = '';
    if (target !== undefined) {
      const judged = row.filter((r) => r.met !== undefined);
      const where = row[0]?.targetSize !== undefined ? ` at ${sizeLabel(row[0].targetSize)}` : '';
      const state = judged.length === 0 || judged.some((r) => r.met === null) ? 'not measured' : judged.every((r) => r.met) ? 'met' : 'NOT met';
      verdict = `>= ${targetLabel(target)}${where}: ${state}`;
    }
    lines.push(`${pad(name, CASE_COLUMN)} ${cells.join(' ')}   ${verdict}`);
  }
  lines.push('', `total bench time ${elapsedSeconds.toFixed(0)} s`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// JSON

export function writeResultsJson(
  file: string,
  content: {
    startedAt: string;
    elapsedSeconds: number;
    config: BenchConfig;
    machine: MachineInfo;
    results: readonly CaseResult[];
    summaries: readonly CaseSummary[];
    ratios: readonly Ratio[];
    servers?: readonly { readonly label: string; readonly address: string; readonly metricsEnabled: boolean }[];
  },
): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
