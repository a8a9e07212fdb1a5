import { PartitionRef, partitionKey } from '../../domain/shared/ids';
import { Cancellable, Scheduler } from '../ports/clock.port';

/** Back-off between retries of a stream whose partitions could not start: 1 s, doubling, at most 10 s. */
export const START_RETRY_DELAY_MIN_MS = 1000;
export const START_RETRY_DELAY_MAX_MS = 10_000;

/** A partition this server should run and could not start (its log could not open, its role could not start). */
export interface PartitionStartFailure {
  readonly ref: PartitionRef;
  /** The system's error code when there is one (`EMFILE`, `ENOSPC`...), else the error's name. */
  readonly code: string;
  readonly message: string;
  /** Failed attempts in a row. */
  readonly attempts: number;
}

/**
 * The partitions that failed to start on this server, and the retries (docs/operability.md
 * "Partitions that cannot start"): a stream with failures is reconciled again after a back-off, so a
 * partition that could not open (out of descriptors, a full disk) starts by itself once it can. What
 * is listed here is reported in /readyz, metrics, CreateStream's answer and publish errors.
 */
export class PartitionStartFailures {
  private readonly failures = new Map<string, PartitionStartFailure>();
  private readonly retries = new Map<string, { timer: Cancellable | null; delayMs: number }>();

  constructor(private readonly scheduler: Scheduler) {}

  get size(): number {
    return this.failures.size;
  }

  get(ref: PartitionRef): PartitionStartFailure | undefined {
    return this.failures.size === 0 ? undefined : this.failures.get(partitionKey(ref));
  }

  all(): PartitionStartFailure[] {
    return [...this.failures.values()];
  }

  /** In partition order. */
  ofStream(stream: string): PartitionStartFailure[] {
    return this.all()
      .filter((f) => f.ref.stream === stream)
      .sort((a, b) => a.ref.partition - b.ref.partition);
  }

  /** Records a failed attempt; returns it. */
  failed(ref: PartitionRef, error: unknown): PartitionStartFailure {
    const key = partitionKey(ref);
    const failure = { ref, code: codeOf(error), message: error instanceof Error ? error.message : String(error), attempts: (this.failures.get(key)?.attempts ?? 0) + 1 };
    this.failures.set(key, failure);
    return failure;
  }

  /** The partition started (or is no longer this server's to run): its failure, if any, is over. Returns it. */
  cleared(ref: PartitionRef): PartitionStartFailure | undefined {
    if (this.failures.size === 0) return undefined;
    const key = partitionKey(ref);
    const failure = this.failures.get(key);
    this.failures.delete(key);
    return failure;
  }

  /**
   * After a reconciliation of `stream`: with failures left, `retry` runs after the stream's back-off
   * (doubling each time); without, the back-off starts over. Returns the delay, or null.
   */
  scheduleRetry(stream: string, retry: () => void): number | null {
    const pending = this.retries.get(stream);
    if (!this.all().some((f) => f.ref.stream === stream)) {
      pending?.timer?.cancel();
      this.retries.delete(stream);
      return null;
    }
    const delayMs = pending === undefined ? START_RETRY_DELAY_MIN_MS : Math.min(pending.delayMs * 2, START_RETRY_DELAY_MAX_MS);
    pending?.timer?.cancel();
    const entry = { timer: null as Cancellable | null, delayMs };
    entry.timer = this.scheduler.setTimeout(() => {
      entry.timer = null;
      retry();
    }, delayMs);
    this.retries.set(stream, entry);
    return delayMs;
  }

  /** No more retries (the server stops). */
  cancelRetries(): void {
    for (const { timer } of this.retries.values()) timer?.cancel();
    this.retries.clear();
  }
}

/** `EMFILE: too many open files, open '…'`: the message, led by the code when it does not already say it. */
export const describeStartFailure = (failure: Pick<PartitionStartFailure, 'code' | 'message'>): string =>
  failure.message.startsWith(failure.code) ? failure.message : `${failure.code}: ${failure.message}`;

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}
