import type { Cancellable, Clock, Scheduler } from '../ports/clock.port';

/**
 * The one time limit of a metadata operation (docs/architecture.md "The metadata write path"):
 * started by the caller, passed down to every wait under it (forwarding to the controller, the
 * proposal's commit, this server's apply, the partitions' reconcile), each of which ends when its
 * `signal` aborts. One timer per operation, however many waits it has.
 */
export class OperationDeadline {
  private readonly controller = new AbortController();
  private readonly timer: Cancellable;
  readonly atMs: number;

  private constructor(
    private readonly clock: Clock,
    scheduler: Scheduler,
    readonly timeoutMs: number,
    reason: () => Error,
  ) {
    this.atMs = clock.nowMs() + timeoutMs;
    this.timer = scheduler.setTimeout(() => this.controller.abort(reason()), Math.max(timeoutMs, 0));
  }

  /** A deadline `timeoutMs` from now; when it passes, `signal` aborts with `reason()`. */
  static start(clock: Clock, scheduler: Scheduler, timeoutMs: number, reason: () => Error): OperationDeadline {
    return new OperationDeadline(clock, scheduler, timeoutMs, reason);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted || this.remainingMs() <= 0;
  }

  remainingMs(): number {
    return Math.max(this.atMs - this.clock.nowMs(), 0);
  }

  /** The operation is over: its timer is no longer needed. */
  finish(): void {
    this.timer.cancel();
  }
}

/**
 * Waits for `promise` or the signal, whichever comes first: aborting rejects with the signal's
 * reason (the wait ends; the work behind the promise may still finish later).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
