import type { Cancellable, Clock, Scheduler } from '../../src/application/ports/clock.port';
import { SimulatedScheduler, VirtualClock } from './virtual-clock';

/** Lets every promise job queued so far (and the ones they queue) run: Node drains microtasks before a macrotask. */
export const flushPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Virtual time for one unit test: the Clock and Scheduler ports over the one `VirtualClock`.
 * Nothing runs by itself; `advance(ms)` fires the due timers one by one in (due time, creation
 * order), flushing promise jobs before and after each, so async code driven by the timers settles
 * as it would between two real timer callbacks.
 */
export class VirtualTime implements Clock, Scheduler {
  private readonly clock = new VirtualClock();
  private readonly scheduler = new SimulatedScheduler(this.clock);

  /** Unix epoch offset, so that nowNs looks like a real timestamp. */
  constructor(private readonly epochMs = 1_700_000_000_000) {}

  nowMs(): number {
    return this.epochMs + this.clock.nowMs;
  }

  nowNs(): bigint {
    return BigInt(this.nowMs()) * 1_000_000n;
  }

  /** Virtual milliseconds elapsed since the test began. */
  get elapsedMs(): number {
    return this.clock.nowMs;
  }

  /** Live timers (cancelled ones excluded). */
  get pendingTimers(): number {
    return this.clock.pendingTimers;
  }

  /** Virtual milliseconds from now to the next live timer, or null when none is pending. */
  get nextTimerInMs(): number | null {
    const at = this.clock.nextAt();
    return at === null ? null : at - this.clock.nowMs;
  }

  afterTurn(fn: () => void): void {
    this.scheduler.afterTurn(fn);
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    return this.scheduler.setTimeout(fn, ms);
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    return this.scheduler.setInterval(fn, ms);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.nowMs + ms;
    await flushPromises();
    while (this.clock.runNextTimer(target)) await flushPromises();
    this.clock.advanceTo(target);
    await flushPromises();
  }
}
