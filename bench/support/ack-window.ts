import { DeadlineError } from './deadline';
import { timedCpu } from './timed-cpu';

/** How long a pipeline or stream may go without progress before it is declared hung. */
export const STALL_MS = 15_000;

/**
 * Drives a pipelined load: keeps up to `window` messages unacknowledged, sends one more per ack,
 * and resolves with the elapsed nanoseconds (process.hrtime.bigint) when `total` acks arrived.
 * Callback-driven: no promise or timer per message. Fails when no ack arrives for `stallMs`
 * (a hang) or when `fail` is called (an error ack, a broken connection).
 */
export class AckWindow {
  private sent = 0;
  private acked = 0;
  private startedAt = 0n;
  private lastProgressAt = 0;
  private settled = false;
  private resolve: (elapsedNs: bigint) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly window: number,
    private readonly send: (index: number) => void,
    private readonly stallMs = STALL_MS,
  ) {}

  get ackedCount(): number {
    return this.acked;
  }

  /** Starts sending; resolves with the elapsed time from the first send to the last ack. */
  run(): Promise<bigint> {
    const done = new Promise<bigint>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.lastProgressAt = Date.now();
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastProgressAt > this.stallMs) {
        this.fail(new DeadlineError(`${this.what}: no ack for ${this.stallMs} ms (${this.progress()})`));
      }
    }, 250);
    timedCpu.start();
    this.startedAt = process.hrtime.bigint();
    this.topUp();
    return done;
  }

  /** `count` acknowledgements arrived (one, or all of one socket read). */
  ack(count = 1): void {
    if (this.settled) return;
    this.acked += count;
    this.lastProgressAt = Date.now();
    if (this.acked >= this.total) {
      const elapsed = process.hrtime.bigint() - this.startedAt;
      this.finish();
      this.resolve(elapsed);
      return;
    }
    this.topUp();
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  progress(): string {
    return `${this.acked} of ${this.total} acked, ${this.sent} sent, window ${this.window}`;
  }

  private topUp(): void {
    try {
      while (this.sent < this.total && this.sent - this.acked < this.window) this.send(this.sent++);
    } catch (error) {
      this.fail(new Error(`${this.what}: send failed (${this.progress()}): ${(error as Error).message}`));
    }
  }

  private finish(): void {
    timedCpu.stop();
    this.settled = true;
    if (this.watchdog) clearInterval(this.watchdog);
  }
}
