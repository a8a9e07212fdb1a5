import { injectable } from 'inversify';
import { Cancellable, Scheduler } from '../../../application/ports/clock.port';

/** Node timers behind the Scheduler port. Intervals do not keep the process alive. */
@injectable()
export class TimerScheduler implements Scheduler {
  afterTurn(fn: () => void): void {
    setImmediate(fn);
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  }
}
