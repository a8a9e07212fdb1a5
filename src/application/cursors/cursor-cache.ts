/** Entries the cursor cache holds, as in Liftbridge (docs/consumers.md "Cursors"). */
export const CURSOR_CACHE_ENTRIES = 512;

interface Entry {
  readonly offset: number;
  /** The `__cursors` partition holding the cursor, and its leader epoch when the entry was made. */
  readonly partition: number;
  readonly leaderEpoch: number;
}

/**
 * Least-recently-used cursor key -> offset. An entry is only good during the leadership it was
 * made in: when this server becomes leader of a partition again (a new leader epoch), the
 * partition's entries are purged, since another leader may have written newer cursors meanwhile.
 */
export class CursorCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = CURSOR_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, partition: number, leaderEpoch: number): number | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.partition !== partition || entry.leaderEpoch !== leaderEpoch) {
      this.purge(partition);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.offset;
  }

  set(key: string, partition: number, leaderEpoch: number, offset: number): void {
    this.entries.delete(key);
    this.entries.set(key, { offset, partition, leaderEpoch });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Drops every entry of `partition` (this server became its leader). */
  purge(partition: number): void {
    for (const [key, entry] of this.entries) if (entry.partition === partition) this.entries.delete(key);
  }
}
