import { injectable } from 'inversify';
import { Cancellable, Scheduler } from '../../../application/ports/clock.port';

/**
 * The longest delay a Node timer holds: a longer one fires after 1 ms instead
 * (TimeoutOverflowWarning). A stream's auto-pause time or cleaner interval may be longer (30 days);
 * such delays are waited for in steps.
 */
const NODE_TIMER_MS_MAX = 2_147_483_647;

/** Node timers behind the Scheduler port. Intervals do not keep the process alive. */
@injectable()
export class TimerScheduler implements Scheduler {
  afterTurn(fn: () => void): void {
    setImmediate(fn);
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    if (ms <= NODE_TIMER_MS_MAX) {
      const handle = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(handle) };
    }
    return longTimer(fn, ms, false);
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    if (ms > NODE_TIMER_MS_MAX) return longTimer(fn, ms, true);
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  }
}

/** A timeout (or, `repeat`, an unref'd interval) longer than one Node timer holds: a chain of timers. */
function longTimer(fn: () => void, ms: number, repeat: boolean): Cancellable {
  let handle: NodeJS.Timeout;
  let cancelled = false;
  const wait = (leftMs: number): void => {
    const stepMs = Math.min(leftMs, NODE_TIMER_MS_MAX);
    handle = setTimeout(() => {
      if (leftMs > stepMs) return wait(leftMs - stepMs);
      fn();
      if (repeat && !cancelled) wait(ms);
    }, stepMs);
    if (repeat) handle.unref();
  };
  wait(ms);
  return {
    cancel: () => {
      cancelled = true;
      clearTimeout(handle);
    },
  };
}
