import { ENTRY_MAX_BYTES, ENTRY_MIN_BYTES } from '../../../codec/message-set';

/** One index entry on disk (docs/storage.md "Index entry"): relative offset int32 | timestamp int64 | position int32 | size int32. */
export const INDEX_ENTRY_BYTES = 20;

const INITIAL_CAPACITY = 64;

/**
 * A segment's index: one entry per record, in offset order, kept in memory in typed arrays for
 * lookups and written to the `.index` file as a rebuildable hint. Unlike Go Liftbridge the file is
 * neither pre-allocated nor memory-mapped: it is exactly `count * 20` bytes (docs/storage.md).
 */
export class SegmentIndex {
  private relOffsets: Int32Array;
  private timestamps: BigInt64Array;
  private positions: Int32Array;
  private sizes: Int32Array;
  private length = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.relOffsets = new Int32Array(capacity);
    this.timestamps = new BigInt64Array(capacity);
    this.positions = new Int32Array(capacity);
    this.sizes = new Int32Array(capacity);
  }

  /** Parses index bytes without judging them (see `validPrefix`); a partial trailing entry is ignored. */
  static decode(buf: Buffer): SegmentIndex {
    const count = Math.floor(buf.length / INDEX_ENTRY_BYTES);
    const index = new SegmentIndex(Math.max(count, INITIAL_CAPACITY));
    for (let i = 0, p = 0; i < count; i++, p += INDEX_ENTRY_BYTES) {
      index.append(buf.readInt32BE(p), buf.readBigInt64BE(p + 4), buf.readInt32BE(p + 12), buf.readInt32BE(p + 16));
    }
    return index;
  }

  get count(): number {
    return this.length;
  }

  relOffsetAt(i: number): number {
    return this.relOffsets[i]!;
  }

  timestampAt(i: number): bigint {
    return this.timestamps[i]!;
  }

  positionAt(i: number): number {
    return this.positions[i]!;
  }

  /** Whole entry: 28-byte header + message. */
  sizeAt(i: number): number {
    return this.sizes[i]!;
  }

  /** Byte position just past the last entry (0 when empty). */
  get endPosition(): number {
    return this.length === 0 ? 0 : this.positions[this.length - 1]! + this.sizes[this.length - 1]!;
  }

  append(relOffset: number, timestampNs: bigint, position: number, size: number): void {
    if (this.length === this.relOffsets.length) this.grow();
    const i = this.length++;
    this.relOffsets[i] = relOffset;
    this.timestamps[i] = timestampNs;
    this.positions[i] = position;
    this.sizes[i] = size;
  }

  /** Replaces entry `i` (a damaged record's placeholder by the real entry, after a repair). */
  set(i: number, timestampNs: bigint, position: number, size: number): void {
    this.timestamps[i] = timestampNs;
    this.positions[i] = position;
    this.sizes[i] = size;
  }

  truncate(count: number): void {
    if (count < this.length) this.length = Math.max(count, 0);
  }

  /**
   * Number of leading entries that are structurally sound: relative offsets 0, 1, 2, ... (no
   * compaction gaps), positions back to back from 0, sizes within the entry bounds.
   */
  validPrefix(): number {
    let expectedPosition = 0;
    for (let i = 0; i < this.length; i++) {
      const size = this.sizes[i]!;
      if (this.relOffsets[i] !== i || this.positions[i] !== expectedPosition) return i;
      if (size < ENTRY_MIN_BYTES || size > ENTRY_MAX_BYTES) return i;
      expectedPosition += size;
    }
    return this.length;
  }

  /** Largest k such that entries [0, k) end at or before `bytes`, assuming a valid prefix. */
  entriesWithin(bytes: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! + this.sizes[mid]! <= bytes) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** On-disk bytes of entries [from, to). */
  encode(from: number, to: number): Buffer {
    const buf = Buffer.allocUnsafe((to - from) * INDEX_ENTRY_BYTES);
    // DataView writes big-endian int64s without the bigint arithmetic of Buffer.writeBigInt64BE.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = from, p = 0; i < to; i++, p += INDEX_ENTRY_BYTES) {
      view.setInt32(p, this.relOffsets[i]!);
      view.setBigInt64(p + 4, this.timestamps[i]!);
      view.setInt32(p + 12, this.positions[i]!);
      view.setInt32(p + 16, this.sizes[i]!);
    }
    return buf;
  }

  private grow(): void {
    const capacity = Math.max(INITIAL_CAPACITY, this.relOffsets.length * 2);
    const relOffsets = new Int32Array(capacity);
    const timestamps = new BigInt64Array(capacity);
    const positions = new Int32Array(capacity);
    const sizes = new Int32Array(capacity);
    relOffsets.set(this.relOffsets);
    timestamps.set(this.timestamps);
    positions.set(this.positions);
    sizes.set(this.sizes);
    this.relOffsets = relOffsets;
    this.timestamps = timestamps;
    this.positions = positions;
    this.sizes = sizes;
  }
}
