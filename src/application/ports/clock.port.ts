/** Wall-clock time, injected so the domain and the simulator control it. */
export interface Clock {
  /** Unix time in nanoseconds (does not fit a JS number). */
  nowNs(): bigint;
  nowMs(): number;
}

export interface Cancellable {
  cancel(): void;
}

/** Timers, injected (style §6: no setTimeout in src/application). */
export interface Scheduler {
  /** Runs `fn` after the current I/O phase: everything that arrived in this turn is seen first. */
  afterTurn(fn: () => void): void;
  setTimeout(fn: () => void, ms: number): Cancellable;
  setInterval(fn: () => void, ms: number): Cancellable;
}
