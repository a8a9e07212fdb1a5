/**
 * The leader-epoch cache of a partition log: which offset each leader epoch started at (docs/storage.md "Segments, retention, epochs, truncation").
 * Pure data shared by the filesystem and in-memory logs; persistence is the adapter's business.
 *
 * Differs from Liftbridge on purpose in one query: `endOffsetFor` follows Kafka KIP-101 (the end
 * offset, exclusive, of an epoch is the start of the next recorded epoch, else the log end offset),
 * where Liftbridge answers the newest offset for the last epoch (docs/storage.md).
 */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    this.entries = [...entries];
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** The newest epoch recorded, 0 when none. */
  get lastEpoch(): number {
    return this.entries.length === 0 ? 0 : this.entries[this.entries.length - 1]!.epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Ignored (false) unless the epoch is newer than the
   * last one and does not start before it, as Liftbridge's `assign` does.
   */
  assign(epoch: number, startOffset: number): boolean {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && (epoch <= last.epoch || startOffset < last.startOffset)) return false;
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** KIP-279: the largest recorded epoch <= `epoch`, or -1 when there is none. */
  epochAtOrBefore(epoch: number): number {
    let found = -1;
    for (const entry of this.entries) if (entry.epoch <= epoch) found = entry.epoch;
    return found;
  }

  /** KIP-101: start of the first epoch greater than `epoch`, else `logEndOffset`. */
  endOffsetFor(epoch: number, logEndOffset: number): number {
    for (const entry of this.entries) if (entry.epoch > epoch) return entry.startOffset;
    return logEndOffset;
  }

  /** Removes the epochs starting at or after `offset` (after a truncation). True when it changed. */
  clearLatest(offset: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < offset);
    return this.entries.length !== before;
  }

  /**
   * Drops epochs that start before `offset` (after retention). When that leaves `offset` before the
   * first remaining start, the last dropped epoch is kept, moved to start at `offset` (Liftbridge's rule).
   */
  clearEarliest(offset: number): boolean {
    let dropped = 0;
    while (dropped < this.entries.length && this.entries[dropped]!.startOffset < offset) dropped++;
    if (dropped === 0) return false;
    const lastDropped = this.entries[dropped - 1]!;
    const rest = this.entries.slice(dropped);
    if (rest.length === 0 || offset < rest[0]!.startOffset) rest.unshift({ epoch: lastDropped.epoch, startOffset: offset });
    this.entries = rest;
    return true;
  }
}
