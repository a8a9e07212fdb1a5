/**
 * Time, injected so the domain and the simulator control it. Both readings are the wall clock at
 * process start plus the monotonic time elapsed since: they never go backwards or jump when the
 * system clock is stepped, so durations, deadlines and timeouts computed from them hold
 * (docs/reliability.md, clock jumps).
 */
export interface Clock {
  /** Unix time in nanoseconds (does not fit a JS number): message timestamps. */
  nowNs(): bigint;
  /** Milliseconds on the same scale: durations and deadlines. */
  nowMs(): number;
}

export interface Cancellable {
  cancel(): void;
}

/** Timers, injected (docs/style.md "Review checklist": no setTimeout in src/application). */
export interface Scheduler {
  /** Runs `fn` after the current I/O phase: everything that arrived in this turn is seen first. */
  afterTurn(fn: () => void): void;
  setTimeout(fn: () => void, ms: number): Cancellable;
  setInterval(fn: () => void, ms: number): Cancellable;
}
