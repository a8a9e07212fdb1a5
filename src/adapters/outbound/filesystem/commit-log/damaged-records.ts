import { OffsetRange } from '../../../../application/ports/partition-log.port';

/**
 * The offsets of one log that cannot be served (damaged on disk, or missing between segments), as
 * sorted, disjoint ranges. Damage is rare, so the list is short and rebuilt on every change: readers
 * see `all` as an immutable snapshot, and the read path pays one length check while it is empty.
 */
export class DamagedRecords {
  private ranges: readonly OffsetRange[] = [];

  get all(): readonly OffsetRange[] {
    return this.ranges;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Records in all ranges. */
  get count(): number {
    let n = 0;
    for (const r of this.ranges) n += r.lastOffset - r.firstOffset + 1;
    return n;
  }

  /** The range holding `offset`, or null. */
  rangeAt(offset: number): OffsetRange | null {
    const i = this.firstEndingAtOrAfter(offset);
    const range = this.ranges[i];
    return range !== undefined && range.firstOffset <= offset ? range : null;
  }

  /** The first damaged offset at or after `offset`; MAX_SAFE_INTEGER when none. */
  nextAtOrAfter(offset: number): number {
    const range = this.ranges[this.firstEndingAtOrAfter(offset)];
    if (range === undefined) return Number.MAX_SAFE_INTEGER;
    return Math.max(range.firstOffset, offset);
  }

  /** Adds `[first, last]`, merging with neighbours; false when every offset was already in. */
  add(firstOffset: number, lastOffset: number): boolean {
    if (this.ranges.some((r) => r.firstOffset <= firstOffset && r.lastOffset >= lastOffset)) return false;
    let lo = firstOffset;
    let hi = lastOffset;
    const kept: OffsetRange[] = [];
    for (const r of this.ranges) {
      if (r.lastOffset + 1 < lo || r.firstOffset > hi + 1) kept.push(r);
      else {
        lo = Math.min(lo, r.firstOffset);
        hi = Math.max(hi, r.lastOffset);
      }
    }
    kept.push({ firstOffset: lo, lastOffset: hi });
    this.ranges = kept.sort((a, b) => a.firstOffset - b.firstOffset);
    return true;
  }

  /** Removes `[first, last]` (repaired), splitting a range that holds more. */
  remove(firstOffset: number, lastOffset: number): void {
    this.keep((r) => r.lastOffset < firstOffset || r.firstOffset > lastOffset ? [r] : [
      ...(r.firstOffset < firstOffset ? [{ firstOffset: r.firstOffset, lastOffset: Math.min(r.lastOffset, firstOffset - 1) }] : []),
      ...(r.lastOffset > lastOffset ? [{ firstOffset: Math.max(r.firstOffset, lastOffset + 1), lastOffset: r.lastOffset }] : []),
    ]);
  }

  /** Forgets offsets >= `offset` (truncation). */
  truncateFrom(offset: number): void {
    this.remove(offset, Number.MAX_SAFE_INTEGER);
  }

  /** Forgets offsets < `offset` (retention). */
  dropBelow(offset: number): void {
    this.remove(0, offset - 1);
  }

  private keep(pieces: (r: OffsetRange) => OffsetRange[]): void {
    if (this.ranges.length === 0) return;
    const next = this.ranges.flatMap((r) => pieces(r));
    if (next.length !== this.ranges.length || next.some((r, i) => r !== this.ranges[i])) this.ranges = next;
  }

  /** Index of the first range whose last offset is >= `offset` (ranges.length when none). */
  private firstEndingAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
