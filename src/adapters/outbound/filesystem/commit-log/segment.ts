import { join } from 'node:path';
import { TimestampedSegment } from '../../../codec/timestamp-search';
import { FileSystem, StorageFile } from '../file-system';
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
 */
export class Segment implements TimestampedSegment {
  readonly logPath: string;
  readonly indexPath: string;
  /** Null until the writer created or opened the file (a freshly rolled segment). */
  logFile: StorageFile | null = null;
  /** Open only while the segment is active. */
  indexFile: StorageFile | null = null;
  /**
   * A second handle on the `.log` opened with O_DSYNC (sync policy "always"): a write through it
   * returns once the data is on disk, so a flush costs one system call instead of write + fdatasync.
   */
  syncWriteFile: StorageFile | null = null;
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
  /** Its files were removed (retention, truncation). */
  removed = false;
  private readers = 0;
  private onIdle: (() => void) | null = null;
  private readonly opening: Record<'syncWrites' | 'index', Promise<StorageFile> | null> = { syncWrites: null, index: null };

  constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    readonly index: SegmentIndex,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
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
    this.logFile = await this.fs.open(this.logPath, 'createEmpty');
    this.indexFile = await this.fs.open(this.indexPath, 'createEmpty');
  }

  async openSyncWrites(): Promise<StorageFile> {
    return this.syncWriteFile ?? this.openShared('syncWrites');
  }

  async openIndexForWrites(): Promise<void> {
    if (this.indexFile === null) await this.openShared('index');
  }

  /**
   * Overlapping flushes may ask for a handle at once: they share one open, so none is opened twice
   * and lost (a FileHandle left to the garbage collector keeps its descriptor until then). The
   * handle is stored by the open itself: whoever sees no open in flight also sees the handle.
   */
  private openShared(kind: 'syncWrites' | 'index'): Promise<StorageFile> {
    const inFlight = this.opening[kind];
    if (inFlight !== null) return inFlight;
    const opened = kind === 'syncWrites' ? this.fs.open(this.logPath, 'writeDsync') : this.fs.open(this.indexPath, 'readWriteCreate');
    const opening = opened.then(
      (handle) => {
        if (kind === 'syncWrites') this.syncWriteFile = handle;
        else this.indexFile = handle;
        this.opening[kind] = null;
        return handle;
      },
      (error: unknown) => {
        this.opening[kind] = null;
        throw error;
      },
    );
    this.opening[kind] = opening;
    return opening;
  }

  /** Marks a read in flight so that closing waits for it. */
  acquire(): void {
    this.readers++;
  }

  release(): void {
    this.readers--;
    if (this.readers === 0 && this.onIdle !== null) this.onIdle();
  }

  /** Closes the handles once in-flight reads are done. */
  async close(): Promise<void> {
    if (this.readers > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    this.onIdle = null;
    await this.opensSettled();
    const handles = [this.logFile, this.indexFile, this.syncWriteFile];
    this.logFile = null;
    this.indexFile = null;
    this.syncWriteFile = null;
    for (const h of handles) await h?.close();
  }

  /** The segment stops being active: its write-only handles are released. */
  async closeIndex(): Promise<void> {
    await this.opensSettled();
    const handles = [this.indexFile, this.syncWriteFile];
    this.indexFile = null;
    this.syncWriteFile = null;
    for (const h of handles) await h?.close();
  }

  /**
   * Lets an open still in flight land first (its caller stores the handle before this resumes), so
   * that closing takes that handle too instead of leaving it to the garbage collector.
   */
  private async opensSettled(): Promise<void> {
    const inFlight = Object.values(this.opening).filter((p): p is Promise<StorageFile> => p !== null);
    if (inFlight.length > 0) await Promise.allSettled(inFlight);
  }

  /** Closes and removes both files (retention, truncation). */
  async remove(): Promise<void> {
    await this.close();
    await this.fs.remove(this.logPath);
    await this.fs.remove(this.indexPath);
    this.removed = true;
  }
}
