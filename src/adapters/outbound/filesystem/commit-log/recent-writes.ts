import type { Segment } from './segment';

/** One appended batch: its bytes exactly as they go to `segment` at `position`. */
interface Chunk {
  readonly segment: Segment;
  readonly position: number;
  readonly lastOffset: number;
  readonly bytes: Buffer;
}

/**
 * The newest appended batches, kept in memory so that reads of the log's tail — followers fetching
 * what the leader just wrote, subscribers following the log — need no disk read, no buffer of their
 * own and no re-validation: these bytes were encoded here or validated on the way in, and are the
 * exact bytes of the file. The batches are the buffers the log writes anyway (no copy is made); they
 * must never change after they are added. Holds about `budgetBytes` (always the newest batch), and
 * nothing once the log has been idle between two `evictIfIdle` calls.
 */
export class RecentWrites {
  private chunks: Chunk[] = [];
  private heldBytes = 0;
  private addedSinceEviction = false;

  constructor(private readonly budgetBytes: number) {}

  add(segment: Segment, position: number, firstOffset: number, lastOffset: number, bytes: Buffer): void {
    const newest = this.chunks[this.chunks.length - 1];
    if (newest !== undefined && newest.lastOffset + 1 !== firstOffset) this.clear();
    this.chunks.push({ segment, position, lastOffset, bytes });
    this.heldBytes += bytes.length;
    this.addedSinceEviction = true;
    let drop = 0;
    while (this.heldBytes > this.budgetBytes && this.chunks.length - drop > 1) this.heldBytes -= this.chunks[drop++]!.bytes.length;
    if (drop > 0) this.chunks = this.chunks.slice(drop);
  }

  /**
   * Bytes `[position, position + length)` of `segment` when held: a view of one batch, or a copy
   * joining consecutive batches. Null when any part is not held.
   */
  slice(segment: Segment, position: number, length: number): Buffer | null {
    const chunks = this.chunks;
    let i = chunks.length - 1;
    while (i >= 0 && !(chunks[i]!.segment === segment && chunks[i]!.position <= position)) i--;
    if (i < 0) return null;
    const first = chunks[i]!;
    const start = position - first.position;
    if (start >= first.bytes.length) return null;
    if (start + length <= first.bytes.length) return first.bytes.subarray(start, start + length);
    const parts = [first.bytes.subarray(start)];
    let covered = parts[0]!.length;
    for (let j = i + 1; covered < length; j++) {
      const next = chunks[j];
      if (next === undefined || next.segment !== segment || next.position !== position + covered) return null;
      const part = next.bytes.subarray(0, Math.min(next.bytes.length, length - covered));
      parts.push(part);
      covered += part.length;
    }
    return Buffer.concat(parts, length);
  }

  /** Forgets every batch holding `offset` or later (the log is cut there). */
  truncateFrom(offset: number): void {
    let keep = this.chunks.length;
    while (keep > 0 && this.chunks[keep - 1]!.lastOffset >= offset) this.heldBytes -= this.chunks[--keep]!.bytes.length;
    if (keep < this.chunks.length) this.chunks = this.chunks.slice(0, keep);
  }

  /** Frees the memory of a log that received nothing since the previous call. */
  evictIfIdle(): void {
    if (!this.addedSinceEviction) this.clear();
    this.addedSinceEviction = false;
  }

  clear(): void {
    this.chunks = [];
    this.heldBytes = 0;
  }
}
