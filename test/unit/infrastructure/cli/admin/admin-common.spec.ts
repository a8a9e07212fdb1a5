import {
  formatNs,
  formatTable,
  parseBytes,
  parseDuration,
  parsePartitionList,
  parseServerList,
  DEFAULT_SERVERS,
  toJson,
} from '../../../../../src/infrastructure/cli/admin/admin-common';
import { percentile } from '../../../../../src/infrastructure/cli/admin/bench-command';
import { parseAckPolicy, parseHeader } from '../../../../../src/infrastructure/cli/admin/publish-command';
import { AckPolicy } from '../../../../../src/client';

describe('admin value parsers', () => {
  it.each([
    ['0', 0n],
    ['1048576', 1_048_576n],
    ['1KB', 1000n],
    ['1k', 1024n],
    ['64MiB', 64n * 1024n * 1024n],
    ['2 GB', 2_000_000_000n],
    ['1TiB', 1024n ** 4n],
  ])('bytes %s = %s', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each([['-1'], ['1.5MB'], ['12 parsecs'], ['99999999999999999999GiB']])('bytes %s is refused', (text) => {
    expect(() => parseBytes(text)).toThrow();
  });

  it.each([
    ['0', 0],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
  ])('duration %s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each([['60'], ['-1h'], ['soon']])('duration %s is refused', (text) => expect(() => parseDuration(text)).toThrow());

  it('partition lists accumulate', () => {
    expect(parsePartitionList('2', parsePartitionList('0, 1', undefined))).toEqual([0, 1, 2]);
    expect(() => parsePartitionList(',', undefined)).toThrow();
  });

  it('--servers replaces the default and then accumulates', () => {
    const first = parseServerList('a:1,b:2', DEFAULT_SERVERS);
    expect(first).toEqual(['a:1', 'b:2']);
    expect(parseServerList('[::1]:9292', first)).toEqual(['a:1', 'b:2', '[::1]:9292']);
    expect(() => parseServerList('a', undefined)).toThrow(/not host:port/);
  });

  it('ack policies and headers', () => {
    expect(parseAckPolicy('NONE')).toBe(AckPolicy.NONE);
    expect(() => parseAckPolicy('some')).toThrow();
    expect(parseHeader('b=', parseHeader('a=x=y', undefined))).toEqual({ a: 'x=y', b: '' });
    expect(() => parseHeader('=v', undefined)).toThrow();
  });
});

describe('admin output helpers', () => {
  it('formats tables padded to the widest cell, without trailing spaces', () => {
    expect(formatTable(['A', 'LONG HEADER', 'C'], [['xyz', '1', ''], ['q', '22', 'end']])).toBe(
      'A    LONG HEADER  C\n' + 'xyz  1\n' + 'q    22           end\n',
    );
  });

  it('writes bigints as strings in JSON and ns timestamps as ISO times', () => {
    expect(toJson({ offset: 2n ** 60n })).toBe('{"offset":"1152921504606846976"}');
    expect(formatNs(1_767_225_600_123_456_789n)).toBe('2026-01-01T00:00:00.123Z');
    expect(formatNs(0n)).toBe('');
  });

  it('percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });
});
