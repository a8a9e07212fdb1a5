import { formatDurationMs, parseGoDurationMs } from '../../../../src/infrastructure/config/go-duration';

describe('parseGoDurationMs (Go time.ParseDuration, in milliseconds)', () => {
  it.each([
    ['500ms', 500],
    ['1m30s', 90_000],
    ['168h', 604_800_000],
    ['1h2m3.5s', 3_723_500],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['0', 0],
    ['0s', 0],
    ['+5s', 5000],
    ['-5s', -5000],
    ['2000us', 2],
    ['2000µs', 2],
    ['2000μs', 2],
    ['1s500ms', 1500],
    [' 3s ', 3000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseGoDurationMs(text)).toBe(ms);
  });

  it('reads a bare integer as nanoseconds, as Liftbridge does', () => {
    expect(parseGoDurationMs('1000000')).toBe(1);
    expect(parseGoDurationMs('1000000000')).toBe(1000);
    expect(parseGoDurationMs('0')).toBe(0);
  });

  it('rounds a positive fraction of a millisecond up, so a non-zero duration never becomes 0', () => {
    expect(parseGoDurationMs('1ns')).toBe(1);
    expect(parseGoDurationMs('1')).toBe(1);
    expect(parseGoDurationMs('1500us')).toBe(2);
  });

  it.each(['', '15 parsecs', '1d', 's', '.s', '1h 2m', '5sec', 'abc', '--5s', '1e3s', '999999999999h'])('rejects %j', (text) => {
    expect(parseGoDurationMs(text)).toBeNull();
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1000, '1s'],
    [90_000, '1m30s'],
    [604_800_000, '168h'],
    [3_723_500, '1h2m3.5s'],
    [3_600_000 + 5, '1h0.005s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
    expect(parseGoDurationMs(text)).toBe(ms);
  });
});
