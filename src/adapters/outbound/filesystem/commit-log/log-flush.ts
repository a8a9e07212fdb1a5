import { SyncPolicy } from '../../../../application/ports/partition-log.port';
import { assert } from '../../../../domain/shared/assert';
import { EpochEntry } from '../../../../domain/partition/log/leader-epoch-cache';
import { FileSystem } from '../file-system';
import { writeFullyThrough } from './file-io';
import { writeLeaderEpochCheckpoint } from './leader-epoch-checkpoint';
import { RepairStep, rewriteInPlace } from './log-damage';
import { Segment } from './segment';
import { INDEX_ENTRY_BYTES } from './segment-index';

/**
 * File work, in the order the log decided it. The log changes its in-memory state synchronously
 * (offsets, index entries, segment list) and queues the matching job; the flusher makes the files
 * follow. `cap` lets a truncation that overtook a queued append stop it from raising the written
 * offset past the truncation point.
 */
export type LogJob =
  | { kind: 'append'; segment: Segment; bytes: Buffer; position: number; indexEnd: number; lastOffset: number; cap: number }
  | { kind: 'roll'; sealed: Segment; created: Segment }
  | { kind: 'truncate'; segment: Segment; count: number; position: number; removed: Segment[]; fresh: boolean }
  | { kind: 'delete'; removed: Segment[] }
  | { kind: 'rewrite'; step: RepairStep }
  | { kind: 'sync' };

export interface FlushHooks {
  /** Bytes up to `offset` are in the file (readable). */
  onWritten(offset: number): void;
  /** Bytes up to `offset` are durable under the sync policy. */
  onDurable(offset: number): void;
  /**
   * The epoch entries to checkpoint before this flush writes data, else null: when the file holds
   * entries the cache dropped (a truncation, or an epoch without records cleared on open), data
   * written at their offsets first would make a crash read them back with the wrong epoch.
   */
  takeEpochsToWriteFirst(): readonly EpochEntry[] | null;
  /** The epoch entries to checkpoint if they differ from the file, else null. */
  takeDirtyEpochs(): readonly EpochEntry[] | null;
  /** The checkpoint file now holds `entries`. */
  epochsWritten(entries: readonly EpochEntry[]): void;
  /** Segments currently in the log (for interval syncs). */
  segments(): readonly Segment[];
}

/**
 * Index entries are a rebuildable hint (recovery re-scans the log past the last one), so they are
 * written in larger runs rather than on every flush, and always before a segment is sealed or closed.
 */
const INDEX_WRITE_ENTRIES_MIN = 4096;

export class LogFlusher {
  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly syncPolicy: SyncPolicy,
    private readonly hooks: FlushHooks,
  ) {}

  /**
   * Whether these jobs may be written while earlier flushes are still in flight: appends to one
   * segment under "always" (each write is durable on its own, and positions never overlap), when no
   * epoch checkpoint and no index run is due. Anything else waits for the pipeline to drain.
   */
  canOverlap(jobs: readonly LogJob[], epochsDirty: boolean): boolean {
    if (this.syncPolicy !== 'always' || epochsDirty || jobs.length === 0) return false;
    const first = jobs[0]!;
    if (first.kind !== 'append') return false;
    for (const job of jobs) if (!isAppendTo(job, first.segment)) return false;
    const last = jobs[jobs.length - 1] as Extract<LogJob, { kind: 'append' }>;
    return last.indexEnd - first.segment.indexWrittenCount < INDEX_WRITE_ENTRIES_MIN;
  }

  /**
   * Runs one group-commit flush: writes (durable at once under "always", through O_DSYNC), then for
   * the other policies nothing more, except index runs and epoch checkpoints. Resolves with the
   * effects to apply once every earlier flush completed (written/durable offsets move in order).
   */
  async flush(jobs: readonly LogJob[]): Promise<() => void> {
    await this.writeEpochs(this.hooks.takeEpochsToWriteFirst());
    const written = new Set<Segment>();
    const ends: [Segment, number][] = [];
    for (let i = 0; i < jobs.length; ) {
      const job = jobs[i]!;
      if (job.kind === 'append') {
        let end = i + 1;
        while (end < jobs.length && isAppendTo(jobs[end]!, job.segment)) end++;
        const appends = jobs.slice(i, end) as Extract<LogJob, { kind: 'append' }>[];
        ends.push([job.segment, await this.writeAppends(job.segment, appends)]);
        written.add(job.segment);
        i = end;
        continue;
      }
      // Structural jobs run alone (never overlapped), so earlier writes are complete: apply them now.
      for (const [segment, end] of ends.splice(0)) segment.writtenBytes = Math.max(segment.writtenBytes, end);
      const lastWritten = lastAppendedBefore(jobs, i);
      if (lastWritten >= 0) this.hooks.onWritten(lastWritten);
      await this.runStructural(job);
      i++;
    }
    if (this.syncPolicy === 'always') {
      for (const segment of written) await syncSegment(segment);
    }
    await this.writeEpochs(this.hooks.takeDirtyEpochs());
    return () => {
      for (const [segment, end] of ends) segment.writtenBytes = Math.max(segment.writtenBytes, end);
      // Caps are read now, not when the bytes were written: a truncation while this flush finished
      // (its epoch checkpoint, say) must not let what it removed count as written or durable
      // (found by the power-loss tests).
      const lastWritten = lastAppendedBefore(jobs, jobs.length);
      if (lastWritten < 0) return;
      this.hooks.onWritten(lastWritten);
      this.hooks.onDurable(lastWritten);
    };
  }

  private async writeEpochs(entries: readonly EpochEntry[] | null): Promise<void> {
    if (entries === null) return;
    await writeLeaderEpochCheckpoint(this.fs, this.dir, entries);
    this.hooks.epochsWritten(entries);
  }

  /**
   * One writev for the log bytes of consecutive appends; returns the segment's byte length after
   * them. Positions are claimed before the write starts (`submittedBytes`), so overlapping flushes
   * write back to back; `writtenBytes` moves only when the flush completes in order.
   */
  private async writeAppends(segment: Segment, appends: readonly Extract<LogJob, { kind: 'append' }>[]): Promise<number> {
    const first = appends[0]!;
    assert(first.position === segment.submittedBytes, `append at byte ${first.position} does not follow byte ${segment.submittedBytes} of ${segment.logPath}`);
    assert(segment.hasFiles, `${segment.logPath} has not been created`);
    const last = appends[appends.length - 1]!;
    const end = last.position + last.bytes.length;
    segment.submittedBytes = end;
    const buffers = appends.length === 1 ? [first.bytes] : appends.map((a) => a.bytes);
    if (this.syncPolicy === 'always') {
      // Durable when the write returns (O_DSYNC): no separate fdatasync for this data.
      await writeFullyThrough(segment.syncWriteFile, buffers, first.position);
    } else {
      await writeFullyThrough(segment.logFile, buffers, first.position);
      segment.unsynced = true;
    }
    // The index may lag or be cut by a truncation queued later; it is a hint rebuilt on recovery.
    const indexEnd = Math.min(last.indexEnd, segment.index.count);
    if (indexEnd - segment.indexWrittenCount >= INDEX_WRITE_ENTRIES_MIN) await writeIndex(segment, indexEnd);
    return end;
  }

  private async runStructural(job: Exclude<LogJob, { kind: 'append' }>): Promise<void> {
    switch (job.kind) {
      case 'roll':
        await seal(job.sealed);
        await job.created.create();
        await this.fs.syncDir(this.dir);
        return;
      case 'truncate':
        // The later segments go first, newest first, and durably, before the cut: a crash in
        // between leaves a contiguous log (found by the power-loss tests), never a cut segment
        // followed by a later one that still holds what the truncation removed.
        for (let i = job.removed.length - 1; i >= 0; i--) await job.removed[i]!.remove();
        if (job.removed.length > 0) await this.fs.syncDir(this.dir);
        if (job.fresh) await job.segment.create();
        else await cut(job.segment, job.position, job.count);
        await this.fs.syncDir(this.dir);
        return;
      case 'delete':
        for (const segment of job.removed) await segment.remove();
        await this.fs.syncDir(this.dir);
        return;
      case 'rewrite':
        await rewriteInPlace(job.step);
        return;
      case 'sync':
        for (const segment of this.hooks.segments()) {
          // A segment rolled in memory whose 'roll' job is still queued has no files yet: creating
          // its index here would leave a handle that the roll's create() then replaces.
          if (!segment.hasFiles) continue;
          await writeIndex(segment, segment.index.count);
          await syncSegment(segment);
        }
        return;
    }
  }
}

const isAppendTo = (job: LogJob, segment: Segment): boolean => job.kind === 'append' && job.segment === segment;

/** The last offset the appends among `jobs[0..end)` still stand for (a truncation caps them), -1 when none. */
function lastAppendedBefore(jobs: readonly LogJob[], end: number): number {
  let last = -1;
  for (let i = 0; i < end; i++) {
    const job = jobs[i]!;
    if (job.kind === 'append') last = Math.max(last, Math.min(job.lastOffset, job.cap));
  }
  return last;
}

async function syncSegment(segment: Segment): Promise<void> {
  if (!segment.unsynced || !segment.hasFiles) return;
  await segment.logFile.use((file) => file.datasync());
  segment.unsynced = false;
}

/** Writes the index entries not yet in the `.index` file, up to entry `end`. */
async function writeIndex(segment: Segment, end: number): Promise<void> {
  const upTo = Math.min(end, segment.index.count);
  if (upTo <= segment.indexWrittenCount) return;
  const bytes = segment.index.encode(segment.indexWrittenCount, upTo);
  segment.indexUnsynced = true;
  await writeFullyThrough(segment.indexFile, [bytes], segment.indexWrittenCount * INDEX_ENTRY_BYTES);
  segment.indexWrittenCount = upTo;
}

/** Seals a segment that stops being active: its data and index are flushed, its write handles closed. */
export async function seal(segment: Segment): Promise<void> {
  await writeIndex(segment, segment.index.count);
  await syncSegment(segment);
  if (segment.indexUnsynced) {
    await segment.indexFile.use((file) => file.datasync());
    segment.indexUnsynced = false;
  }
  await segment.closeIndex();
}

/** Truncates a segment's files to `count` entries ending at `position`; it becomes the active segment. */
export async function cut(segment: Segment, position: number, count: number): Promise<void> {
  assert(segment.hasFiles, `${segment.logPath} has not been created`);
  await segment.logFile.use(async (file) => {
    await file.truncate(position);
    await file.datasync();
  });
  // The index file may lag the log: cut it, never extend it (zero entries would be garbage).
  const indexEntries = Math.min(segment.indexWrittenCount, count);
  await segment.indexFile.use(async (file) => {
    await file.truncate(indexEntries * INDEX_ENTRY_BYTES);
    await file.datasync();
  });
  segment.indexUnsynced = false;
  segment.writtenBytes = position;
  segment.submittedBytes = position;
  segment.indexWrittenCount = indexEntries;
  segment.unsynced = false;
}
