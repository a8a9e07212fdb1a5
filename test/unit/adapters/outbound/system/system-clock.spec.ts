import { SystemClock } from '../../../../../src/adapters/outbound/system/system-clock';

describe('SystemClock', () => {
  afterEach(() => jest.useRealTimers());

  it('starts at the wall clock', () => {
    const clock = new SystemClock();
    expect(Math.abs(clock.nowMs() - Date.now())).toBeLessThan(1000);
    expect(Math.abs(Number(clock.nowNs() / 1_000_000n) - Date.now())).toBeLessThan(1000);
  });

  it('measures durations with the monotonic clock: a stepped wall clock (NTP, an operator) moves neither reading', () => {
    // Only Date is faked: performance.now() and process.hrtime keep running as the kernel's monotonic clock does.
    jest.useFakeTimers({ doNotFake: ['performance', 'hrtime', 'nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'] });
    const clock = new SystemClock();
    const beforeMs = clock.nowMs();
    const beforeNs = clock.nowNs();
    jest.setSystemTime(Date.now() - 3_600_000);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(beforeMs);
    expect(clock.nowNs()).toBeGreaterThanOrEqual(beforeNs);
    jest.setSystemTime(Date.now() + 7_200_000);
    expect(clock.nowMs() - beforeMs).toBeLessThan(1000);
    expect(clock.nowNs() - beforeNs).toBeLessThan(1_000_000_000n);
  });
});
