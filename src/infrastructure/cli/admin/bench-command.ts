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

  let interrupted = false;
  const removeHandler = io.onInterrupt(() => {
    interrupted = true;
  });
  try {
    const value = Buffer.alloc(command.size, 'x');
    const latencies: number[] = [];
    let firstOffset: bigint | null = null;
    let lastOffset = -1n;
    let acked = 0;
    const publishProgress = new Progress(io, 'publish', command.messages);
    const publisher = client.asyncPublisher({ maxInFlight: command.window });
    const acks: Promise<void>[] = [];
    let failure: unknown = null;
    const publishStart = performance.now();
    try {
      for (let i = 0; i < command.messages && !interrupted && failure === null; i++) {
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
              publishProgress.update(++acked);
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
    const publishSeconds = (performance.now() - publishStart) / 1000;
    if (interrupted) {
      io.err('bench: interrupted\n');
      return 0;
    }

    // Catch-up read of what was just written.
    let received = 0;
    const subscribeStart = performance.now();
    if (firstOffset !== null) {
      const expected = Number(lastOffset - (firstOffset as bigint) + 1n);
      const subscribeProgress = new Progress(io, 'subscribe', expected);
      const subscription = client.subscribe(command.stream, { partition: 0, startOffset: firstOffset, stopOffset: lastOffset });
      const removeClose = io.onInterrupt(() => subscription.close());
      try {
        for await (const _message of subscription) subscribeProgress.update(++received);
      } finally {
        removeClose();
        subscription.close();
      }
    }
    const subscribeSeconds = (performance.now() - subscribeStart) / 1000;

    latencies.sort((a, b) => a - b);
    const mb = (n: number, seconds: number): number => round((n * command.size) / 1e6 / Math.max(seconds, 1e-9), 2);
    const result: BenchResult = {
      stream: command.stream,
      messages: acked,
      size: command.size,
      window: command.window,
      publish: {
        seconds: round(publishSeconds, 3),
        msgPerSec: Math.round(acked / Math.max(publishSeconds, 1e-9)),
        mbPerSec: mb(acked, publishSeconds),
        p50Ms: round(percentile(latencies, 0.5), 2),
        p99Ms: round(percentile(latencies, 0.99), 2),
      },
      subscribe: {
        seconds: round(subscribeSeconds, 3),
        msgPerSec: Math.round(received / Math.max(subscribeSeconds, 1e-9)),
        mbPerSec: mb(received, subscribeSeconds),
        received,
      },
    };
    if (command.json) {
      io.out(`${toJson(result)}\n`);
    } else {
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
    return 0;
  } finally {
    removeHandler();
  }
}
