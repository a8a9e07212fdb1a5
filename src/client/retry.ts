/** Bounded retries with exponential backoff. */
export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  readonly attempts: number;
  /** First backoff in ms; doubled each retry up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, backoffMs: 50, maxBackoffMs: 1000 };

export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `attempt` until it succeeds, `shouldRetry` says no, or the attempts run out. `beforeRetry`
 * runs between attempts (metadata refresh); its errors are ignored.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  beforeRetry: (error: unknown) => Promise<void> = async () => undefined,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n + 1 >= policy.attempts || !shouldRetry(error)) throw error;
      await delay(backoffDelay(policy, n));
      await beforeRetry(error).catch(() => undefined);
    }
  }
}
