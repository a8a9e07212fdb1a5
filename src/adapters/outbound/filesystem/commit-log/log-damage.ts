import { Logger } from '../../../../application/ports/logger.port';
import { RecordDamagedError, SegmentCorruptedError } from '../../../../application/ports/partition-log.errors';
import { OffsetRange, RecordBatch } from '../../../../application/ports/partition-log.port';
import { readEntryTimestampNs, scanMessageSet } from '../../../codec/message-set';
import { DamagedRecords } from './damaged-records';
import { writeDamagedRecords } from './damaged-records-checkpoint';
import { FileSystem } from '../file-system';
import { writeFully } from './file-io';
import { verifiedRead } from './log-reads';
import { Segment } from './segment';
import { INDEX_ENTRY_BYTES, SegmentIndex } from './segment-index';

/** One damaged range rewritten in place with another replica's copy (a `rewrite` job of the log). */
export interface RepairStep {
  readonly range: OffsetRange;
  readonly segment: Segment;
  /** Where the range's bytes start in the segment's `.log`. */
  readonly position: number;
  readonly bytes: Buffer;
  /** The index entries of the range as they must be, from entry `firstIndex` of the segment. */
  readonly index: SegmentIndex;
  readonly firstIndex: number;
}

/**
 * What a `FilesystemPartitionLog` knows about its damaged records (docs/storage.md §4.1): the set
 * recovery found, what reads find later, and the in-place repair from another replica's copy.
 * Kept apart from the log so that its read path only pays a length check while the set is empty.
 */
export class LogDamage {
  readonly records = new DamagedRecords();
  /** Counts truncations, so a read or repair that raced one does not mistake moved bytes for damage. */
  generation = 0;
  /** The list the checkpoint holds (or is being written with); null when there is no file. */
  private persisted: readonly OffsetRange[] | null;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly logger: Logger,
    found: readonly OffsetRange[],
    checkpointed: readonly OffsetRange[],
  ) {
    for (const r of [...found, ...checkpointed]) this.records.add(r.firstOffset, r.lastOffset);
    this.persisted = checkpointed.length === 0 ? null : checkpointed;
    this.persist();
  }

  /** Resolves once the checkpoint holds the current list (close waits for it). */
  async saved(): Promise<void> {
    await this.saving;
  }

  /** Records below `offset` were deleted by retention. */
  retained(offset: number): void {
    this.records.dropBelow(offset);
    this.persist();
  }

  /** Throws `RecordDamagedError` when `offset` cannot be served from `segment`. */
  checkServable(offset: number, segment: Segment): void {
    if (!this.records.isEmpty && this.records.rangeAt(offset) !== null) {
      throw new RecordDamagedError(offset, `${segment.logPath} holds a damaged copy`);
    }
    if (offset - segment.baseOffset >= segment.index.count) throw new RecordDamagedError(offset, `missing from ${segment.logPath}`);
  }

  /** Records from `offset` on were cut. */
  truncated(offset: number): void {
    this.generation++;
    this.records.truncateFrom(offset);
    this.persist();
  }

  /**
   * Verifies what a read of `count` records from `from` returned (at `position` of `segment`'s log,
   * read while the log was at truncation `generation`). A bad entry joins the damaged set (logged
   * once); the good entries before it are returned, and a read that starts at it throws
   * `RecordDamagedError`. Null when a truncation ran meanwhile: the bytes may have moved, not rotted.
   */
  verify(buf: Buffer, from: number, count: number, position: number, segment: Segment, generation: number): RecordBatch | null {
    const read = verifiedRead(buf, from, count, position);
    const bad = read.bad;
    if (bad === null) return read.batch;
    if (generation !== this.generation) return null;
    if (this.records.add(bad.offset, bad.offset)) {
      this.persist();
      this.logger.error(
        { file: segment.logPath, position: bad.position, offset: bad.offset, defect: bad.defect },
        'damaged record found on read: not served; later records still are (repaired from an in-sync replica where there is one)',
      );
    }
    if (read.batch === null) throw new RecordDamagedError(from, `${segment.logPath} byte ${position}: ${bad.defect}`);
    return read.batch;
  }

  /** Plans and runs the in-place repairs `batch` allows (`PartitionLog.repairDamaged`); `rewrite` queues one durably. */
  async repair(batch: RecordBatch, segmentFor: (offset: number) => Segment, rewrite: (step: RepairStep) => Promise<void>): Promise<number> {
    let repaired = 0;
    for (const step of this.planRepair(batch, segmentFor)) {
      const generation = this.generation;
      await rewrite(step);
      // A truncation meanwhile may have cut or replaced these records: leave the bookkeeping to a retry.
      if (generation !== this.generation) continue;
      this.repaired(step);
      repaired += step.range.lastOffset - step.range.firstOffset + 1;
    }
    return repaired;
  }

  /**
   * The damaged ranges `batch` can replace in place: covered whole by it, stored in a segment (not
   * missing), and the same length on disk as the copy. Throws when `batch` fails validation.
   */
  private planRepair(batch: RecordBatch, segmentFor: (offset: number) => Segment): RepairStep[] {
    const entries: { position: number; bytes: number }[] = [];
    const scan = scanMessageSet(batch.bytes, batch.firstOffset, { visit: (_offset, position, bytes) => entries.push({ position, bytes }) });
    if (scan.defect !== null || scan.count === 0 || scan.count !== batch.count) {
      throw new SegmentCorruptedError(`repair batch ${batch.firstOffset}-${batch.lastOffset} rejected: ${scan.defect ?? 'count mismatch'} at byte ${scan.validBytes}`);
    }
    const steps: RepairStep[] = [];
    for (const range of this.records.all) {
      if (range.firstOffset < batch.firstOffset || range.lastOffset > scan.lastOffset) continue;
      const segment = segmentFor(range.firstOffset);
      const firstIndex = range.firstOffset - segment.baseOffset;
      const lastIndex = range.lastOffset - segment.baseOffset;
      if (lastIndex >= segment.index.count) continue; // missing records: there is no place to write them
      const position = segment.index.positionAt(firstIndex);
      const storedBytes = segment.index.positionAt(lastIndex) + segment.index.sizeAt(lastIndex) - position;
      const first = entries[range.firstOffset - batch.firstOffset]!;
      const last = entries[range.lastOffset - batch.firstOffset]!;
      const copyBytes = last.position + last.bytes - first.position;
      if (copyBytes !== storedBytes) {
        this.logger.warn({ file: segment.logPath, ...range, storedBytes, copyBytes }, 'damaged records cannot be rewritten in place: the copy has another length');
        continue;
      }
      const index = new SegmentIndex();
      for (let o = range.firstOffset; o <= range.lastOffset; o++) {
        const e = entries[o - batch.firstOffset]!;
        index.append(o - segment.baseOffset, readEntryTimestampNs(batch.bytes, e.position), position + e.position - first.position, e.bytes);
      }
      // A copy, not a view: the batch belongs to the caller.
      steps.push({ range, segment, position, bytes: Buffer.from(batch.bytes.subarray(first.position, first.position + copyBytes)), index, firstIndex });
    }
    return steps;
  }

  /**
   * Writes the damaged-records checkpoint when the list changed since it was last written (never
   * creates one for a sound log). Failures are logged: it is a hint, checked on open.
   */
  private persist(): void {
    const ranges = this.records.all;
    if (ranges === this.persisted || (this.persisted === null && ranges.length === 0)) return;
    this.persisted = ranges;
    this.saving = this.saving
      .then(() => writeDamagedRecords(this.fs, this.dir, ranges))
      .catch((error: unknown) => this.logger.warn({ err: error, dir: this.dir }, 'could not checkpoint the damaged records'));
  }

  /** The rewrite is durable: the index takes the real entries and the range leaves the damaged set. */
  private repaired(step: RepairStep): void {
    for (let i = 0; i < step.index.count; i++) {
      step.segment.index.set(step.firstIndex + i, step.index.timestampAt(i), step.index.positionAt(i), step.index.sizeAt(i));
    }
    this.records.remove(step.range.firstOffset, step.range.lastOffset);
    this.persist();
    this.logger.info({ file: step.segment.logPath, ...step.range, position: step.position, bytes: step.bytes.length }, 'damaged records repaired in place from another replica');
  }
}

/**
 * Writes a repair step's bytes over the damaged span and fsyncs them (under every sync policy:
 * repairs are rare), then the matching entries of the `.index` file where it already holds them.
 */
export async function rewriteInPlace(step: RepairStep): Promise<void> {
  const { segment } = step;
  if (!segment.hasFiles) throw new Error(`${segment.logPath} has not been created`);
  await segment.logFile.use(async (file) => {
    await writeFully(file, [step.bytes], step.position);
    await file.datasync();
  });
  const written = Math.min(step.index.count, segment.indexWrittenCount - step.firstIndex);
  if (written <= 0) return;
  await segment.indexFile.use(async (file) => {
    await writeFully(file, [step.index.encode(0, written)], step.firstIndex * INDEX_ENTRY_BYTES);
    await file.datasync();
  });
}
