/**
 * Group commit with a bounded pipeline. Jobs submitted while flushes run wait together and go out
 * in the next flush, so the publish path costs one promise per flush, not per record.
 *
 * Appends to the active segment may overlap: up to `maxInFlight` flushes write at once (a disk
 * does more with several writes queued than with one). Everything else (rolls, truncations,
 * deletions, index and checkpoint writes) runs alone. Whatever order the writes finish in, flushes
 * are *completed* in submission order: a flush's effects (written and durable offsets) are applied
 * and its promise settles only after every earlier flush completed. A failed flush fails the
 * pipeline: it and every later flush, in flight or queued, reject with the same error, so nothing
 * unsynced is ever acknowledged, and new jobs are refused until `recover()`.
 */
export class GroupCommit<J> {
  private queue: J[] = [];
  private group: Deferred | null = null;
  private readonly inFlight: Flight<J>[] = [];
  private exclusive = false;
  private scheduled = false;
  private failed: Error | null = null;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param flush writes the jobs; resolves with the effects to apply once every earlier flush is done
   * @param canOverlap whether these jobs may be written while other flushes are still in flight
   */
  constructor(
    private readonly flush: (jobs: J[]) => Promise<() => void>,
    private readonly toFailure: (cause: unknown) => Error,
    private readonly canOverlap: (jobs: readonly J[]) => boolean = () => false,
    private readonly maxInFlight = 1,
  ) {}

  get failure(): Error | null {
    return this.failed;
  }

  /** Jobs submitted and not finished yet (those in flight, then the queued ones). */
  pending(): readonly J[] {
    if (this.inFlight.length === 0) return this.queue;
    return [...this.inFlight.flatMap((f) => f.jobs), ...this.queue];
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

  /**
   * Accepts jobs again after a failure, once the caller brought the files back in line with what is
   * durable (the failed flushes' jobs are gone: rejected, never acknowledged). Only when idle.
   */
  recover(): void {
    if (this.inFlight.length > 0 || this.group !== null) throw new Error('group commit can only recover when idle');
    this.failed = null;
  }

  /** Resolves when nothing is queued or in flight; never rejects. */
  idle(): Promise<void> {
    if (this.inFlight.length === 0 && this.group === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A microtask, not a timer: every append of the current synchronous run joins this flush.
    queueMicrotask(() => {
      this.scheduled = false;
      this.start();
    });
  }

  /** Starts the queued jobs as a flush if the pipeline allows it now. */
  private start(): void {
    const group = this.group;
    if (group === null || this.failed !== null || this.exclusive) return;
    const overlap = this.canOverlap(this.queue);
    if (this.inFlight.length > 0 && (!overlap || this.inFlight.length >= this.maxInFlight)) return; // retried on completion
    const flight: Flight<J> = { jobs: this.queue, deferred: group, done: false, ok: false, effects: null, error: null };
    this.queue = [];
    this.group = null;
    this.exclusive = !overlap;
    this.inFlight.push(flight);
    this.flush(flight.jobs).then(
      (effects) => {
        flight.effects = effects;
        flight.ok = true;
        flight.done = true;
        this.completeInOrder();
      },
      (error: unknown) => {
        flight.error = error;
        flight.done = true;
        this.completeInOrder();
      },
    );
  }

  private completeInOrder(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      const flight = this.inFlight.shift()!;
      if (!flight.ok && this.failed === null) this.failed = this.toFailure(flight.error);
      if (this.failed !== null) flight.deferred.reject(this.failed);
      else {
        flight.effects!();
        flight.deferred.resolve();
      }
    }
    if (this.inFlight.length === 0) this.exclusive = false;
    if (this.failed !== null && this.inFlight.length === 0 && this.group !== null) {
      this.group.reject(this.failed);
      this.group = null;
      this.queue = [];
    }
    this.start();
    if (this.inFlight.length === 0 && this.group === null) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}

interface Flight<J> {
  readonly jobs: J[];
  readonly deferred: Deferred;
  done: boolean;
  ok: boolean;
  effects: (() => void) | null;
  error: unknown;
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
