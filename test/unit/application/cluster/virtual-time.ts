import type { Cancellable, Clock, Scheduler } from '../../../../src/application/ports/clock.port';

interface Timer {
  at: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly periodMs: number | null;
  cancelled: boolean;
}

/** Lets every promise job queued so far (and the ones they queue) run: Node drains microtasks before a macrotask. */
export const flushPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time for one test: a Clock and a Scheduler over one timer queue ordered by (due time,
 * creation order). Nothing runs by itself; `advance(ms)` fires the due timers in order, flushing
 * promise jobs before and after each one, so async code driven by the timers settles as it would.
 */
export class VirtualTime implements Clock, Scheduler {
  private now = 0;
  private seq = 0;
  private timers: Timer[] = [];

  /** Unix epoch offset, so that nowNs looks like a real timestamp. */
  constructor(private readonly epochMs = 1_700_000_000_000) {}

  nowMs(): number {
    return this.epochMs + this.now;
  }

  nowNs(): bigint {
    return BigInt(this.nowMs()) * 1_000_000n;
  }

  /** Virtual milliseconds elapsed since the test began. */
  get elapsedMs(): number {
    return this.now;
  }

  /** Live timers (cancelled ones excluded). */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  afterTurn(fn: () => void): void {
    this.setTimeout(fn, 0);
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    return this.schedule(fn, Math.max(0, ms), null);
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    if (!(ms > 0)) throw new Error(`bad interval ${ms}`);
    return this.schedule(fn, ms, ms);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await flushPromises();
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.at > target) break;
      this.now = next.at;
      if (next.periodMs === null) {
        next.cancelled = true;
      } else {
        next.at += next.periodMs;
      }
      next.fn();
      await flushPromises();
    }
    this.now = target;
    await flushPromises();
  }

  private schedule(fn: () => void, delayMs: number, periodMs: number | null): Cancellable {
    const timer: Timer = { at: this.now + delayMs, seq: this.seq++, fn, periodMs, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  private nextDue(): Timer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: Timer | undefined;
    for (const t of this.timers) if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
