/**
 * `liftbridge bench`: a publish/subscribe load against a server. Creates the stream if needed,
 * publishes `--messages` messages of `--size` bytes to partition 0 through an AsyncPublisher with
 * `--window` messages in flight, then reads them back with a catch-up subscription. Progress goes
 * to stderr, the summary (throughput, publish-to-ack latency p50/p99) to stdout.
 */
import { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { StreamExistsError, type LiftbridgeClient } from '../../../client';
import { addCommonOptions, commonOptions, formatTable, parsePositive, toJson, type AdminIo, type CommonOptions } from './admin-common';

export interface BenchCommand extends CommonOptions {
  readonly kind: 'bench';
  readonly stream: string;
  readonly messages: number;
  readonly size: number;
  readonly window: number;
}

export const BENCH_DEFAULTS = { stream: 'bench', messages: 10_000, size: 100, window: 1024 } as const;

export function registerBenchCommand(program: Command, accept: (command: BenchCommand) => void): void {
  addCommonOptions(
    program
      .command('bench')
      .description('measure publish and subscribe throughput and publish-to-ack latency')
      .option('--stream <name>', 'stream to use (created when missing)', BENCH_DEFAULTS.stream)
      .option('-m, --messages <n>', 'messages to publish', parsePositive, BENCH_DEFAULTS.messages)
      .option('--size <bytes>', 'message value size in bytes', parsePositive, BENCH_DEFAULTS.size)
      .option('-w, --window <n>', 'messages in flight (AsyncPublisher window)', parsePositive, BENCH_DEFAULTS.window),
  ).action((flags: CommonOptions & { stream: string; messages: number; size: number; window: number }) =>
    accept({
      kind: 'bench',
      ...commonOptions(flags),
      stream: flags.stream,
      messages: flags.messages,
      size: flags.size,
      window: flags.window,
    }),
  );
}

/** The value at quantile `q` (0..1) of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** A progress line on stderr: redrawn in place on a terminal, a few plain lines otherwise. */
class Progress {
  private lastDraw = 0;
  private lastQuarter = -1;
  constructor(
    private readonly io: AdminIo,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (this.io.stderrIsTty) {
      const now = performance.now();
      if (done < this.total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round((done / this.total) * width);
      this.io.err(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}`);
      if (done >= this.total) this.io.err('\n');
      return;
    }
    const quarter = Math.floor((done / this.total) * 4);
    if (quarter === this.lastQuarter) return;
    this.lastQuarter = quarter;
    this.io.err(`${this.label}: ${done}/${this.total} (${quarter * 25}%)\n`);
  }
}

export interface BenchResult {
  readonly stream: string;
  readonly messages: number;
  readonly size: number;
  readonly window: number;
  readonly publish: { readonly seconds: number; readonly msgPerSec: number; readonly mbPerSec: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly subscribe: { readonly seconds: number; readonly msgPerSec: number; readonly mbPerSec: number; readonly received: number };
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

export async function runBenchCommand(command: BenchCommand, client: LiftbridgeClient, io: AdminIo): Promise<number> {
  try {
    await client.createStream(command.stream, `${command.stream}.bench`);
  } catch (error) {
    if (!(error instanceof StreamExistsError)) throw error;
  }
  const run = { interrupted: false };
  const removeHandler = io.onInterrupt(() => {
    run.interrupted = true;
  });
  try {
    const published = await publishPhase(command, client, io, run);
    if (run.interrupted) {
      io.err('bench: interrupted\n');
      return 0;
    }
    const read = await readBackPhase(command, client, io, published);
    printBench(command, io, benchResult(command, published, read));
    return 0;
  } finally {
    removeHandler();
  }
}

interface Published {
  readonly acked: number;
  /** Ack latencies in ms, sorted. */
  readonly latencies: number[];
  readonly firstOffset: bigint | null;
  readonly lastOffset: bigint;
  readonly seconds: number;
}

/** Publishes the messages to partition 0 with up to `window` in flight; stops early when interrupted. */
async function publishPhase(command: BenchCommand, client: LiftbridgeClient, io: AdminIo, run: { readonly interrupted: boolean }): Promise<Published> {
  const value = Buffer.alloc(command.size, 'x');
  const latencies: number[] = [];
  let firstOffset: bigint | null = null;
  let lastOffset = -1n;
  let acked = 0;
  const progress = new Progress(io, 'publish', command.messages);
  const publisher = client.asyncPublisher({ maxInFlight: command.window });
  const acks: Promise<void>[] = [];
  let failure: unknown = null;
  const start = performance.now();
  try {
    for (let i = 0; i < command.messages && !run.interrupted && failure === null; i++) {
      const sentAt = performance.now();
      const ticket = await publisher.send(command.stream, value, { partition: 0 });
      acks.push(
        ticket.ack.then(
          (ack) => {
            latencies.push(performance.now() - sentAt);
            if (ack) {
              if (firstOffset === null || ack.offset < firstOffset) firstOffset = ack.offset;
              if (ack.offset > lastOffset) lastOffset = ack.offset;
            }
            progress.update(++acked);
          },
          (error: unknown) => {
            failure ??= error;
          },
        ),
      );
    }
    await Promise.all(acks);
  } finally {
    await publisher.close(failure === null ? undefined : 0);
  }
  if (failure !== null) throw failure;
  latencies.sort((a, b) => a - b);
  return { acked, latencies, firstOffset, lastOffset, seconds: (performance.now() - start) / 1000 };
}

/** Catch-up read of what was just written. */
async function readBackPhase(command: BenchCommand, client: LiftbridgeClient, io: AdminIo, published: Published): Promise<{ received: number; seconds: number }> {
  let received = 0;
  const start = performance.now();
  if (published.firstOffset !== null) {
    const progress = new Progress(io, 'subscribe', Number(published.lastOffset - published.firstOffset + 1n));
    const subscription = client.subscribe(command.stream, { partition: 0, startOffset: published.firstOffset, stopOffset: published.lastOffset });
    const removeClose = io.onInterrupt(() => subscription.close());
    try {
      for await (const _message of subscription) progress.update(++received);
    } finally {
      removeClose();
      subscription.close();
    }
  }
  return { received, seconds: (performance.now() - start) / 1000 };
}

function benchResult(command: BenchCommand, published: Published, read: { received: number; seconds: number }): BenchResult {
  const mb = (n: number, seconds: number): number => round((n * command.size) / 1e6 / Math.max(seconds, 1e-9), 2);
  return {
    stream: command.stream,
    messages: published.acked,
    size: command.size,
    window: command.window,
    publish: {
      seconds: round(published.seconds, 3),
      msgPerSec: Math.round(published.acked / Math.max(published.seconds, 1e-9)),
      mbPerSec: mb(published.acked, published.seconds),
      p50Ms: round(percentile(published.latencies, 0.5), 2),
      p99Ms: round(percentile(published.latencies, 0.99), 2),
    },
    subscribe: {
      seconds: round(read.seconds, 3),
      msgPerSec: Math.round(read.received / Math.max(read.seconds, 1e-9)),
      mbPerSec: mb(read.received, read.seconds),
      received: read.received,
    },
  };
}

function printBench(command: BenchCommand, io: AdminIo, result: BenchResult): void {
  if (command.json) {
    io.out(`${toJson(result)}\n`);
    return;
  }
  io.out(
    `bench: ${result.messages} messages of ${result.size} B to ${result.stream}/0, window ${result.window}\n` +
      formatTable(
        ['PHASE', 'SECONDS', 'MSG/S', 'MB/S', 'ACK P50 MS', 'ACK P99 MS'],
        [
          ['publish', String(result.publish.seconds), String(result.publish.msgPerSec), String(result.publish.mbPerSec), String(result.publish.p50Ms), String(result.publish.p99Ms)],
          ['subscribe', String(result.subscribe.seconds), String(result.subscribe.msgPerSec), String(result.subscribe.mbPerSec), '-', '-'],
        ],
      ),
  );
}
