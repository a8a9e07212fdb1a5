import { CURSOR_CACHE_ENTRIES, CursorCache } from '../../../../src/application/cursors/cursor-cache';

describe('CursorCache: LRU of cursor offsets, valid only within the leadership they were made in', () => {
  it('keeps the 512 most recently used cursors', () => {
    const cache = new CursorCache();
    for (let i = 0; i < CURSOR_CACHE_ENTRIES; i++) cache.set(`k${i}`, 0, 1, i);
    expect(cache.get('k0', 0, 1)).toBe(0); // k0 is now the most recent; k1 the least

    cache.set('new', 0, 1, 99);

    expect(cache.size).toBe(CURSOR_CACHE_ENTRIES);
    expect(cache.get('k1', 0, 1)).toBeUndefined();
    expect(cache.get('k0', 0, 1)).toBe(0);
    expect(cache.get('new', 0, 1)).toBe(99);
  });

  it('purges a partition\'s cursors when this server leads it in a new leader epoch, and keeps the other partitions\'', () => {
    const cache = new CursorCache();
    cache.set('a', 0, 10, 1);
    cache.set('b', 0, 10, 2);
    cache.set('c', 1, 20, 3);

    expect(cache.get('a', 0, 11)).toBeUndefined();

    expect(cache.get('b', 0, 10)).toBeUndefined();
    expect(cache.get('c', 1, 20)).toBe(3);
    expect(cache.size).toBe(1);
  });
});
