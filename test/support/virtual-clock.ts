import type { Cancellable, Scheduler } from '../../src/application/ports/clock.port';

interface Timer {
  /** Due time and creation order; an interval re-arms the same object, so that its cancel still reaches it. */
  at: number;
  seq: number;
  readonly fn: () => void;
  readonly periodMs: number | null;
  cancelled: boolean;
}

const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * The one virtual clock of the tests: virtual milliseconds and one timer queue ordered by (due
 * time, creation order), so the same inputs always fire in the same order. Nothing here runs by
 * itself: the simulations fire one instant at a time with `runNextInstant` and flush the promise
 * jobs it started before the next; `VirtualTime` (virtual-time.ts) fires one timer at a time with
 * `runNextTimer` and flushes after each.
 */
export class VirtualClock {
  private nowValue = 0;
  private seq = 0;
  /** A binary min-heap of timers by (at, seq). */
  private readonly heap: Timer[] = [];

  get nowMs(): number {
    return this.nowValue;
  }

  /** Runs `fn` after `delayMs` (≥ 0) of virtual time and then every `periodMs` when given. */
  schedule(fn: () => void, delayMs: number, periodMs: number | null): Cancellable {
    if (!(delayMs >= 0) || (periodMs !== null && !(periodMs > 0))) throw new Error(`bad virtual timer: delay ${delayMs} period ${periodMs}`);
    const timer: Timer = { at: this.nowValue + delayMs, seq: this.seq++, fn, periodMs, cancelled: false };
    this.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Live timers (cancelled ones excluded). */
  get pendingTimers(): number {
    return this.heap.filter((timer) => !timer.cancelled).length;
  }

  /** The due time of the next live timer, or null when none is pending. */
  nextAt(): number | null {
    this.dropCancelled();
    return this.heap[0]?.at ?? null;
  }

  /**
   * Moves the clock to the earliest pending instant if it is ≤ `limitMs` and fires, synchronously
   * and in order, every timer due then that existed before this call. Returns false when nothing
   * was due (the clock then stays where it is).
   */
  runNextInstant(limitMs: number): boolean {
    const at = this.nextAt();
    if (at === null || at > limitMs) return false;
    this.nowValue = at;
    const seqLimit = this.seq;
    for (let top = this.heap[0]; top !== undefined && top.at === at && top.seq < seqLimit; top = this.heap[0]) {
      this.pop();
      if (top.cancelled) continue;
      if (top.periodMs !== null) this.rearm(top);
      top.fn();
    }
    return true;
  }

  /**
   * Moves the clock to the earliest pending timer if it is due at or before `limitMs` and fires that
   * one timer alone. Returns false when nothing was due (the clock then stays where it is).
   */
  runNextTimer(limitMs: number): boolean {
    const at = this.nextAt();
    const top = this.heap[0];
    if (at === null || at > limitMs || top === undefined) return false;
    this.nowValue = at;
    this.pop();
    if (top.periodMs !== null) this.rearm(top);
    top.fn();
    return true;
  }

  /** Moves the clock forward to `ms` (never backward); pending timers before it must have run. */
  advanceTo(ms: number): void {
    const at = this.nextAt();
    if (at !== null && at < ms) throw new Error(`virtual clock cannot skip the timer due at ${at} ms`);
    if (ms > this.nowValue) this.nowValue = ms;
  }

  /** Due again one period later, ordered after every timer created so far. */
  private rearm(timer: Timer): void {
    timer.at += timer.periodMs ?? 0;
    timer.seq = this.seq++;
    this.push(timer);
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled === true) this.pop();
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Timer, heap[m] as Timer)) m = l;
      if (r < heap.length && before(heap[r] as Timer, heap[m] as Timer)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as Timer, heap[i] as Timer];
      i = m;
    }
  }
}

/**
 * The `Scheduler` port over a `VirtualClock` for one incarnation of one server. It remembers its
 * live timers so that a crash can cancel them all at once (a dead process has no timers).
 */
export class SimulatedScheduler implements Scheduler {
  private readonly live = new Set<Cancellable>();

  constructor(private readonly clock: VirtualClock) {}

  afterTurn(fn: () => void): void {
    this.setTimeout(fn, 0);
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    const handle: Cancellable = this.track(
      this.clock.schedule(
        () => {
          this.live.delete(handle);
          fn();
        },
        Math.max(0, ms),
        null,
      ),
    );
    return handle;
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    return this.track(this.clock.schedule(fn, ms, ms));
  }

  /** The process died: no timer of this incarnation fires any more. */
  cancelAll(): void {
    for (const timer of this.live) timer.cancel();
    this.live.clear();
  }

  private track(inner: Cancellable): Cancellable {
    const handle: Cancellable = {
      cancel: () => {
        inner.cancel();
        this.live.delete(handle);
      },
    };
    this.live.add(handle);
    return handle;
  }
}
