import { flushPromises } from './virtual-time';
import type { VirtualTime } from './virtual-time';

/** What a probe returns while the awaited thing has not happened yet. */
type NotYet = undefined | null | false;

const found = <T>(value: T | NotYet): value is T => value !== undefined && value !== null && value !== false;

/**
 * Polls `probe` on real time until it returns something other than undefined, null or false, and
 * returns that; fails once `timeoutMs` passed (no fixed sleeps in tests). For integration tests,
 * whose servers and sockets run on real time.
 */
export function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs?: number): Promise<void>;
export function waitFor<T>(probe: () => T | NotYet | Promise<T | NotYet>, timeoutMs: number, what: string, pollMs?: number): Promise<T>;
export async function waitFor<T>(probe: () => T | NotYet | Promise<T | NotYet>, timeoutMs: number, what: string, pollMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (found(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * `waitFor` on virtual time: checks `probe`, then advances `time` to its next timer (flushing
 * promise jobs on the way), until the probe returns something or `timeoutMs` of virtual time
 * passed. Deterministic, and it never waits on the wall clock.
 */
export function waitForVirtual(time: VirtualTime, check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void>;
export function waitForVirtual<T>(time: VirtualTime, probe: () => T | NotYet | Promise<T | NotYet>, timeoutMs: number, what: string): Promise<T>;
export async function waitForVirtual<T>(time: VirtualTime, probe: () => T | NotYet | Promise<T | NotYet>, timeoutMs: number, what: string): Promise<T> {
  const deadlineMs = time.elapsedMs + timeoutMs;
  await flushPromises(); // what already happened is seen before any virtual time passes
  for (;;) {
    const value = await probe();
    if (found(value)) return value;
    const leftMs = deadlineMs - time.elapsedMs;
    if (leftMs <= 0) throw new Error(`timed out after ${timeoutMs} virtual ms waiting for ${what}`);
    await time.advance(Math.min(time.nextTimerInMs ?? leftMs, leftMs));
  }
}

/**
 * Advances `time` until `promise` settles and returns its value or throws its error; fails once
 * `timeoutMs` of virtual time passed. A promise that settles without any timer settles with no
 * virtual time passing.
 */
export async function settleVirtual<T>(time: VirtualTime, promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let outcome: { readonly value: T } | { readonly error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const settled = await waitForVirtual(time, () => outcome, timeoutMs, what);
  if ('error' in settled) throw settled.error;
  return settled.value;
}
