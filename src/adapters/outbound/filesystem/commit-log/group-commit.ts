/**
 * Group commit: jobs submitted while a flush runs wait together and go out in the next flush (one
 * write per segment, one fsync), so the publish path costs one promise per flush, not per record.
 * All jobs of one flush share one promise. A failed flush is final: its promise and every later
 * submission reject with the same error, so nothing unsynced is ever acknowledged.
 */
export class GroupCommit<J> {
  private queue: J[] = [];
  private current: J[] = [];
  private group: Deferred | null = null;
  private running = false;
  private scheduled = false;
  private failed: Error | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly flush: (jobs: J[]) => Promise<void>,
    private readonly toFailure: (cause: unknown) => Error,
  ) {}

  get failure(): Error | null {
    return this.failed;
  }

  /** Jobs submitted and not finished yet (the running flush's and the queued ones). */
  pending(): readonly J[] {
    return this.current.length === 0 ? this.queue : [...this.current, ...this.queue];
  }

  /**
   * Queues `job` (or just asks for a flush when null) and returns the promise of the flush that will
   * carry it. The promise is shared and already has a handler, so ignoring it is safe.
   */
  submit(job: J | null): Promise<void> {
    if (this.failed !== null) return quietlyRejected(this.failed);
    if (job !== null) this.queue.push(job);
    this.group ??= deferred();
    this.schedule();
    return this.group.promise;
  }

  /** Resolves when nothing is queued or running; never rejects. */
  idle(): Promise<void> {
    if (!this.running && this.group === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // A microtask, not a timer: every append of the current synchronous run joins this flush.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    const group = this.group;
    if (this.running || group === null) return;
    this.running = true;
    this.current = this.queue;
    this.queue = [];
    this.group = null;
    try {
      await this.flush(this.current);
      group.resolve();
    } catch (cause) {
      this.failed ??= this.toFailure(cause);
      group.reject(this.failed);
    }
    this.running = false;
    this.current = [];
    const next = this.group as Deferred | null; // submitted while the flush ran
    if (next !== null) {
      if (this.failed === null) return this.schedule();
      next.reject(this.failed);
      this.group = null;
      this.queue = [];
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // callers may drop the promise; the failure is also kept in `failure`
  return { promise, resolve, reject };
}

function quietlyRejected(error: Error): Promise<void> {
  const promise = Promise.reject(error);
  promise.catch(() => undefined);
  return promise;
}
