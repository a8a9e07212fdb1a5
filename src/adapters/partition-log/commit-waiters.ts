/**
 * Callers of `PartitionLog.waitForCommit`, woken by high-watermark moves, read-only changes and
 * close. One list per log; no timers: an AbortSignal is the only way to give up, and its listener
 * is removed as soon as the wait settles so long-lived signals do not accumulate listeners.
 */
interface Waiter {
  readonly afterOffset: number;
  readonly resolve: () => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

export class CommitWaiters {
  private waiters: Waiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves once `wakeUpTo(hw)` passes `afterOffset`, on `wakeAll`, or when `signal` aborts. */
  wait(afterOffset: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        afterOffset,
        signal,
        resolve: () => {
          signal.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          waiter.resolve();
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Wakes every waiter whose `afterOffset` is below `highWatermark`. */
  wakeUpTo(highWatermark: number): void {
    if (this.waiters.length === 0) return;
    const woken: Waiter[] = [];
    const rest: Waiter[] = [];
    for (const w of this.waiters) (w.afterOffset < highWatermark ? woken : rest).push(w);
    this.waiters = rest;
    for (const w of woken) w.resolve();
  }

  wakeAll(): void {
    const woken = this.waiters;
    this.waiters = [];
    for (const w of woken) w.resolve();
  }
}
