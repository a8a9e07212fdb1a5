import { RecentWrites } from '../../../../src/adapters/outbound/filesystem/commit-log/recent-writes';
import type { Segment } from '../../../../src/adapters/outbound/filesystem/commit-log/segment';

// Only the segment's identity matters to the cache.
const segmentA = { baseOffset: 0 } as Segment;
const segmentB = { baseOffset: 100 } as Segment;
const bytes = (text: string): Buffer => Buffer.from(text);

describe('RecentWrites', () => {
  it('serves a range inside one batch as a view of that batch', () => {
    const cache = new RecentWrites(1024);
    const batch = bytes('abcdef');
    cache.add(segmentA, 0, 0, 2, batch);
    const held = cache.slice(segmentA, 2, 3)!;
    expect(held.toString()).toBe('cde');
    expect(held.buffer).toBe(batch.buffer);
  });

  it('joins consecutive batches of one segment, and refuses ranges it does not fully hold', () => {
    const cache = new RecentWrites(1024);
    cache.add(segmentA, 10, 0, 1, bytes('abc'));
    cache.add(segmentA, 13, 2, 3, bytes('defg'));
    expect(cache.slice(segmentA, 11, 5)!.toString()).toBe('bcdef');
    expect(cache.slice(segmentA, 9, 2)).toBeNull(); // starts before the first batch
    expect(cache.slice(segmentA, 15, 3)).toBeNull(); // runs past the newest batch
    expect(cache.slice(segmentB, 10, 2)).toBeNull(); // another segment
  });

  it('does not join batches across a segment roll', () => {
    const cache = new RecentWrites(1024);
    cache.add(segmentA, 0, 0, 0, bytes('ab'));
    cache.add(segmentB, 0, 1, 1, bytes('cd'));
    expect(cache.slice(segmentB, 0, 2)!.toString()).toBe('cd');
    expect(cache.slice(segmentA, 0, 4)).toBeNull();
  });

  it('keeps about its budget, always the newest batch', () => {
    const cache = new RecentWrites(5);
    cache.add(segmentA, 0, 0, 0, bytes('aaa'));
    cache.add(segmentA, 3, 1, 1, bytes('bbb'));
    expect(cache.slice(segmentA, 0, 3)).toBeNull();
    expect(cache.slice(segmentA, 3, 3)!.toString()).toBe('bbb');
    cache.add(segmentA, 6, 2, 2, bytes('cccccccc'));
    expect(cache.slice(segmentA, 6, 8)!.toString()).toBe('cccccccc');
    expect(cache.slice(segmentA, 3, 3)).toBeNull();
  });

  it('forgets what a truncation cut, so re-appended positions never serve old bytes', () => {
    const cache = new RecentWrites(1024);
    cache.add(segmentA, 0, 0, 1, bytes('ab'));
    cache.add(segmentA, 2, 2, 3, bytes('cd'));
    cache.truncateFrom(3);
    expect(cache.slice(segmentA, 2, 2)).toBeNull();
    cache.add(segmentA, 2, 2, 3, bytes('XY'));
    expect(cache.slice(segmentA, 0, 4)!.toString()).toBe('abXY');
  });

  it('starts over when a batch does not continue the newest one', () => {
    const cache = new RecentWrites(1024);
    cache.add(segmentA, 0, 0, 1, bytes('ab'));
    cache.add(segmentB, 0, 100, 100, bytes('z'));
    expect(cache.slice(segmentA, 0, 2)).toBeNull();
    expect(cache.slice(segmentB, 0, 1)!.toString()).toBe('z');
  });

  it('frees everything after an idle period between two evictions', () => {
    const cache = new RecentWrites(1024);
    cache.add(segmentA, 0, 0, 0, bytes('ab'));
    cache.evictIfIdle(); // something was added since the last call: kept
    expect(cache.slice(segmentA, 0, 2)).not.toBeNull();
    cache.evictIfIdle(); // idle since: freed
    expect(cache.slice(segmentA, 0, 2)).toBeNull();
  });
});
