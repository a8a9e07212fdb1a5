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

  nowNs(): bigint {
    return this.baseNs + (process.hrtime.bigint() - this.baseHr);
  }

  nowMs(): number {
    return Date.now();
  }
}
