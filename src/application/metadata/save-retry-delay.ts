import type { Cancellable, Scheduler } from '../ports/clock.port';

/**
 * Back-off between retries of a Raft save that failed (a full disk): 1 s, doubling, at most 8 s, so
 * the metadata log resumes within about 8 s of space coming back (docs/reliability.md "Scenarios", scenario 25,
 * asks for 10 s). A retry costs one save.
 */
export const SAVE_RETRY_DELAY_MIN_MS = 1000;
export const SAVE_RETRY_DELAY_MAX_MS = 8000;

/** The waits of one driver between save retries; `interrupt` ends a wait early (the driver stops). */
export class SaveRetryDelay {
  private delayMs = SAVE_RETRY_DELAY_MIN_MS;
  private waiting: { readonly timer: Cancellable; readonly done: (retry: boolean) => void } | null = null;
  private interrupted = false;

  constructor(private readonly scheduler: Scheduler) {}

  /** How long the next wait lasts. */
  get nextMs(): number {
    return this.delayMs;
  }

  /** Resolves true after the back-off (which then doubles), false at once or later when interrupted. */
  wait(): Promise<boolean> {
    if (this.interrupted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = this.scheduler.setTimeout(() => {
        this.waiting = null;
        this.delayMs = Math.min(this.delayMs * 2, SAVE_RETRY_DELAY_MAX_MS);
        resolve(true);
      }, this.delayMs);
      this.waiting = { timer, done: resolve };
    });
  }

  /** A save succeeded: the next failure starts again from the shortest wait. */
  reset(): void {
    this.delayMs = SAVE_RETRY_DELAY_MIN_MS;
  }

  interrupt(): void {
    this.interrupted = true;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.timer.cancel();
    waiting?.done(false);
  }
}
