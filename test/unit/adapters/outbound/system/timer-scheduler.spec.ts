import { TimerScheduler } from '../../../../../src/adapters/outbound/system/timer-scheduler';

/**
 * Node runs a timer longer than 2^31-1 ms after 1 ms instead (TimeoutOverflowWarning): a stream
 * option of 30 days (an auto-pause time, a cleaner interval) must still mean 30 days. On jest's
 * fake timers, which overflow the same way.
 */

const DAY_MS = 24 * 3600 * 1000;

describe('TimerScheduler with delays beyond what a Node timer holds', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a 30-day timeout fires after 30 days, not at once, and can be cancelled on the way', () => {
    const scheduler = new TimerScheduler();
    let fired = 0;
    scheduler.setTimeout(() => fired++, 30 * DAY_MS);
    const cancelled = scheduler.setTimeout(() => fired++, 30 * DAY_MS);
    jest.advanceTimersByTime(25 * DAY_MS);
    cancelled.cancel();
    expect(fired).toBe(0);
    jest.advanceTimersByTime(5 * DAY_MS - 1);
    expect(fired).toBe(0);
    jest.advanceTimersByTime(1);
    expect(fired).toBe(1);
    jest.advanceTimersByTime(100 * DAY_MS);
    expect(fired).toBe(1);
  });

  it('a 30-day interval fires every 30 days until cancelled', () => {
    const scheduler = new TimerScheduler();
    let fired = 0;
    const interval = scheduler.setInterval(() => fired++, 30 * DAY_MS);
    jest.advanceTimersByTime(30 * DAY_MS - 1);
    expect(fired).toBe(0);
    jest.advanceTimersByTime(1);
    expect(fired).toBe(1);
    jest.advanceTimersByTime(60 * DAY_MS);
    expect(fired).toBe(3);
    interval.cancel();
    jest.advanceTimersByTime(100 * DAY_MS);
    expect(fired).toBe(3);
  });

  it('short delays are plain Node timers', () => {
    const scheduler = new TimerScheduler();
    const fired: string[] = [];
    scheduler.setTimeout(() => fired.push('timeout'), 10);
    const interval = scheduler.setInterval(() => fired.push('interval'), 4);
    jest.advanceTimersByTime(10);
    interval.cancel();
    expect(fired).toEqual(['interval', 'interval', 'timeout']);
  });
});
