import { EpochEntry, LeaderEpochCache } from '../../../../domain/partition/log/leader-epoch-cache';

/**
 * A log's leader-epoch cache and what its checkpoint file holds (docs/storage.md §1.4). Changes are
 * written by the log's next flush, or at close, never on their own: opening a partition (a restart
 * opens every one) writes nothing it does not have to, and a leader that begins the epoch the file
 * already names, or begins one and appends nothing, writes nothing at all.
 *
 * Order with the data: new entries are written after the flush's data (a crash in between leaves a
 * file that lacks them, and recovery finds them in the records); entries the file has and the
 * cache dropped (a truncation, an epoch without records cleared on open) are removed before any
 * data (data at their offsets would otherwise be read back with the wrong epoch after a crash).
 */
export class CheckpointedEpochs {
  private changed: boolean;

  constructor(
    readonly cache: LeaderEpochCache,
    changed: boolean,
    /** What the file holds ([] when there is none); null when unknown (garbled, or a write failed). */
    private onDisk: readonly EpochEntry[] | null,
  ) {
    this.changed = changed;
  }

  /** The cache may differ from the file. */
  get dirty(): boolean {
    return this.changed;
  }

  /** Records that `epoch` starts at `startOffset` when it is newer than the last one; true when recorded. */
  record(epoch: number, startOffset: number): boolean {
    if (epoch <= this.cache.lastEpoch || !this.cache.assign(epoch, startOffset)) return false;
    this.changed = true;
    return true;
  }

  /** After a truncation at `offset`. */
  clearLatest(offset: number): void {
    this.changed = this.cache.clearLatest(offset) || this.changed;
  }

  /** After retention removed everything before `offset`. */
  clearEarliest(offset: number): void {
    this.changed = this.cache.clearEarliest(offset) || this.changed;
  }

  /** What to write before a flush's data: the entries the file keeps, when it holds some the cache dropped. */
  takeToWriteFirst(): readonly EpochEntry[] | null {
    if (!this.changed) return null;
    const cache = this.cache.all;
    // Unknown content: every entry of the cache is backed by records or starts right after the newest.
    if (this.onDisk === null) return [...cache];
    const common = commonPrefixLength(this.onDisk, cache);
    return common === this.onDisk.length ? null : cache.slice(0, common);
  }

  /**
   * What to write after a flush's data: the cache, when it differs from the file in an entry that
   * starts at or before `newestOffset`. An epoch begun past the newest record (a leader that has not
   * appended yet) is dropped on open anyway, so it waits for its first record: a new partition and
   * a leader that never appends write no checkpoint, at creation or at close.
   */
  takeChanged(newestOffset: number): readonly EpochEntry[] | null {
    if (!this.changed) return null;
    const cache = this.cache.all;
    let withRecords = cache.length;
    while (withRecords > 0 && cache[withRecords - 1]!.startOffset > newestOffset) withRecords--;
    if (this.onDisk !== null && this.onDisk.length === withRecords && commonPrefixLength(this.onDisk, cache) === withRecords) {
      this.changed = withRecords < cache.length; // written with the first record of those epochs
      return null;
    }
    this.changed = false;
    return [...cache];
  }

  /** The file now holds `entries`. */
  written(entries: readonly EpochEntry[]): void {
    this.onDisk = entries;
  }

  /** A write of the log failed: a checkpoint write may have stopped half way, so it is rewritten on recovery. */
  writeFailed(): void {
    this.onDisk = null;
    this.changed = true;
  }
}

function commonPrefixLength(a: readonly EpochEntry[], b: readonly EpochEntry[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i]!.epoch === b[i]!.epoch && a[i]!.startOffset === b[i]!.startOffset) i++;
  return i;
}
