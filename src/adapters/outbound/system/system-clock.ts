import { injectable } from 'inversify';
import { Clock } from '../../../application/ports/clock.port';

/**
 * Wall-clock nanoseconds: the millisecond clock at start plus the monotonic high-resolution clock
 * since then, so timestamps have ns resolution and do not jump backwards within a process.
 */
@injectable()
export class SystemClock implements Clock {
  private readonly baseNs = BigInt(Date.now()) * 1_000_000n;
  private readonly baseHr = process.hrtime.bigint();
  private readonly baseMs = Date.now();
  private readonly basePerfMs = performance.now();

  nowNs(): bigint {
    return this.baseNs + (process.hrtime.bigint() - this.baseHr);
  }

  /** Same scale as `nowNs`, monotonic: a stepped system clock (NTP, an operator) moves no deadline. */
  nowMs(): number {
    return Math.floor(this.baseMs + (performance.now() - this.basePerfMs)); // whole ms, as Date.now()
  }
}
