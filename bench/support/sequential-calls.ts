import { timedCpu } from './timed-cpu';

/** Each call's deadline in the one-at-a-time cases. */
export const CALL_DEADLINE_MS = 10_000;

/**
 * Runs `total` calls one after the other, recording each one's latency; callback-driven, no promise
 * per call. `call(i, done)` starts call `i` and reports through `done` a problem (then the run
 * fails with it) or null.
 */
export function callSequentially(total: number, call: (i: number, done: (problem: string | null) => void) => void): Promise<{ elapsedNs: bigint; latenciesMs: Float64Array }> {
  return new Promise((resolve, reject) => {
    const latenciesMs = new Float64Array(total);
    let finished = 0;
    let callStart = 0n;
    timedCpu.start();
    const startedAt = process.hrtime.bigint();
    const next = (): void => {
      callStart = process.hrtime.bigint();
      call(finished, onDone);
    };
    const onDone = (problem: string | null): void => {
      const now = process.hrtime.bigint();
      if (problem !== null) {
        timedCpu.stop();
        return reject(new Error(`call #${finished + 1} of ${total}: ${problem}`));
      }
      latenciesMs[finished++] = Number(now - callStart) / 1e6;
      if (finished < total) return next();
      timedCpu.stop();
      resolve({ elapsedNs: now - startedAt, latenciesMs });
    };
    next();
  });
}
