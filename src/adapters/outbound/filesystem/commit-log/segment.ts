import { join } from 'node:path';
import { TimestampedSegment } from '../../../../domain/partition/log/timestamp-search';
import { FileSystem } from '../file-system';
import { FileSlot, OpenFileCache } from './open-file-cache';
import { SegmentIndex } from './segment-index';

const BASE_OFFSET_DIGITS = 20;
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
const SEGMENT_FILE = /^(\d{20})\.(log|index)$/;

export const segmentFileName = (baseOffset: number, suffix: string): string =>
  `${String(baseOffset).padStart(BASE_OFFSET_DIGITS, '0')}${suffix}`;

/** Parses `<20-digit base offset>.log|.index`; null for any other name. */
export function parseSegmentFileName(name: string): { baseOffset: number; kind: 'log' | 'index' } | null {
  const match = SEGMENT_FILE.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: match[2] as 'log' | 'index' };
}

/**
 * One segment: `<base>.log` (entries back to back) and `<base>.index`, plus what the log knows
 * about them in memory. Positions and sizes are "assigned" when an append is accepted; the file
 * catches up when the group-commit writer runs (`writtenBytes`, `indexWrittenCount`).
 *
 * Its files are opened on demand through the store's `OpenFileCache` (docs/storage.md "Open
 * files"): an operation acquires the handle it needs and releases it; an idle one may be closed
 * and is opened again by the next operation.
 */
export class Segment implements TimestampedSegment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly fs: FileSystem;
  /** Whether its files exist (recovered, or created by the writer); false for a segment rolled in memory whose files the writer has not created yet. */
  hasFiles = false;
  /** The `.log`, read and written at chosen positions. */
  readonly logFile: FileSlot;
  /** The `.index`; written while the segment is active, and by repairs. */
  readonly indexFile: FileSlot;
  /**
   * A second handle on the `.log` opened with O_DSYNC (sync policy "always"): a write through it
   * returns once the data is on disk, so a flush costs one system call instead of write + fdatasync.
   */
  readonly syncWriteFile: FileSlot;
  /** Bytes assigned to this segment, written or not. */
  bytes = 0;
  /** Bytes known to be in the `.log` file. */
  writtenBytes = 0;
  /** Bytes handed to a write, finished or not (≥ writtenBytes while flushes overlap). */
  submittedBytes = 0;
  /** Index entries known to be in the `.index` file. */
  indexWrittenCount = 0;
  /** Written since the last fsync. */
  unsynced = false;
  /** Index entries written (or the index rewritten by recovery) since the last fsync of the `.index`. */
  indexUnsynced = false;
  /** Its files were removed (retention, truncation). */
  removed = false;

  constructor(
    files: OpenFileCache,
    readonly dir: string,
    readonly baseOffset: number,
    /** Replaced only by recovery, which builds it while reading the files. */
    public index: SegmentIndex,
  ) {
    this.fs = files.fs;
    this.logPath = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
    this.logFile = files.slot(this.logPath, 'readWrite');
    this.indexFile = files.slot(this.indexPath, 'readWriteCreate');
    this.syncWriteFile = files.slot(this.logPath, 'writeDsync');
  }

  get count(): number {
    return this.index.count;
  }

  timestampAt(i: number): bigint {
    return this.index.timestampAt(i);
  }

  /** Offset the next record of this segment would get. */
  get nextOffset(): number {
    return this.baseOffset + this.index.count;
  }

  /** Creates empty files (a new or fully truncated segment); the caller fsyncs the directory. */
  async create(): Promise<void> {
    await this.syncWriteFile.closeNow(); // a handle on the file being replaced must not write into the new one
    await this.logFile.createEmpty();
    await this.indexFile.createEmpty();
    this.hasFiles = true;
  }

  /** Closes every handle once the operations using them are done; the segment is not used again. */
  async close(): Promise<void> {
    await Promise.all([this.logFile.retire(), this.indexFile.retire(), this.syncWriteFile.retire()]);
  }

  /** The segment stops being active: its write-only handles are released now (a later write opens them again). */
  async closeIndex(): Promise<void> {
    await Promise.all([this.indexFile.closeNow(), this.syncWriteFile.closeNow()]);
  }

  /** Closes and removes both files (retention, truncation). */
  async remove(): Promise<void> {
    await this.close();
    await this.fs.remove(this.logPath);
    await this.fs.remove(this.indexPath);
    this.removed = true;
  }
}
