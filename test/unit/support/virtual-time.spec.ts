/**
 * The tests' one virtual clock (test/support/virtual-clock.ts) and the `VirtualTime` facade over it
 * that unit tests use as their Clock and Scheduler.
 */
import { SimulatedScheduler, VirtualClock } from '../../support/virtual-clock';
import { VirtualTime } from '../../support/virtual-time';

describe('VirtualClock', () => {
  it('fires timers in (due time, creation order), one instant at a time', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.schedule(() => fired.push('b@10'), 10, null);
    clock.schedule(() => fired.push('a@5'), 5, null);
    clock.schedule(() => fired.push('c@10'), 10, null);
    expect(clock.runNextInstant(100)).toBe(true);
    expect([clock.nowMs, fired]).toEqual([5, ['a@5']]);
    expect(clock.runNextInstant(100)).toBe(true);
    expect([clock.nowMs, fired]).toEqual([10, ['a@5', 'b@10', 'c@10']]);
    expect(clock.runNextInstant(100)).toBe(false);
  });

  it('fires one timer at a time with runNextTimer and stops at the limit', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    for (const ms of [3, 3, 8]) clock.schedule(() => fired.push(ms), ms, null);
    expect(clock.runNextTimer(5)).toBe(true);
    expect(fired).toEqual([3]);
    expect(clock.runNextTimer(5)).toBe(true);
    expect(clock.runNextTimer(5)).toBe(false);
    expect([clock.nowMs, fired, clock.pendingTimers]).toEqual([3, [3, 3], 1]);
  });

  it('stops an interval that already fired when it is cancelled', () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const interval = clock.schedule(() => ticks++, 10, 10);
    while (clock.runNextInstant(25));
    expect(ticks).toBe(2);
    interval.cancel();
    while (clock.runNextInstant(100));
    expect(ticks).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('silences every timer of a crashed incarnation, intervals included', () => {
    const clock = new VirtualClock();
    const scheduler = new SimulatedScheduler(clock);
    let ticks = 0;
    scheduler.setInterval(() => ticks++, 10);
    scheduler.setTimeout(() => ticks++, 50);
    while (clock.runNextInstant(15));
    scheduler.cancelAll();
    while (clock.runNextInstant(100));
    expect(ticks).toBe(1);
  });
});

describe('VirtualTime', () => {
  it('reads as a Unix clock that starts at its epoch and moves only when advanced', async () => {
    const time = new VirtualTime(1_000);
    expect([time.nowMs(), time.nowNs(), time.elapsedMs]).toEqual([1_000, 1_000_000_000n, 0]);
    await time.advance(250);
    expect([time.nowMs(), time.elapsedMs]).toEqual([1_250, 250]);
  });

  it('lets the promise jobs a timer started settle before the next timer fires', async () => {
    const time = new VirtualTime();
    const seen: string[] = [];
    time.setTimeout(() => void Promise.resolve().then(() => seen.push('job of the first')), 10);
    time.setTimeout(() => seen.push('second'), 10);
    const interval = time.setInterval(() => seen.push(`tick@${time.elapsedMs}`), 15);
    await time.advance(30);
    expect(seen).toEqual(['job of the first', 'second', 'tick@15', 'tick@30']);
    expect(time.pendingTimers).toBe(1);
    expect(time.nextTimerInMs).toBe(15);
    interval.cancel();
    expect([time.pendingTimers, time.nextTimerInMs]).toEqual([0, null]);
  });

  it('runs afterTurn callbacks at the same virtual instant', async () => {
    const time = new VirtualTime();
    let ran = false;
    time.afterTurn(() => (ran = true));
    await time.advance(0);
    expect([ran, time.elapsedMs]).toEqual([true, 0]);
  });
});
