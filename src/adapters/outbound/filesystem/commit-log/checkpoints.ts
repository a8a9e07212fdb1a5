import { join } from 'node:path';
import { Logger } from '../../../../application/ports/logger.port';
import { EpochEntry, LeaderEpochCache } from '../../../../domain/partition/log/leader-epoch-cache';
import { FileSystem } from '../file-system';
import { HIGH_WATERMARK_CHECKPOINT, parseHighWatermarkCheckpoint, readHighWatermarkCheckpoint } from './high-watermark-checkpoint';
import { LEADER_EPOCH_CHECKPOINT, parseLeaderEpochCheckpoint, readLeaderEpochCheckpoint } from './leader-epoch-checkpoint';

export interface CheckpointState {
  readonly epochs: LeaderEpochCache;
  /** The epoch cache may differ from its file (written by the next flush, or at close). */
  readonly epochsDirty: boolean;
  /** What the epoch checkpoint file holds ([] when there is none); null when it is not valid as a whole. */
  readonly epochsOnDisk: readonly EpochEntry[] | null;
  readonly highWatermark: number;
  /** The value in the file, NaN when it must be rewritten. */
  readonly hwCheckpointed: number;
}

/**
 * Loads both checkpoints against the recovered log (docs/storage.md "Checkpoints"; docs/reliability.md "Bad inputs", D14, D15):
 * a bad file is cut or ignored with a warning, never a reason to refuse the partition. Epochs seen
 * in re-validated records fill what a lost checkpoint write missed; then, as Liftbridge does on
 * open, epochs past the log end and before its start are trimmed.
 */
export async function loadCheckpoints(
  fs: FileSystem,
  dir: string,
  logger: Logger,
  log: {
    readonly newest: number;
    readonly oldest: number;
    readonly epochStarts: readonly EpochEntry[];
    /** The leader epoch in the header of the record at `offset` (oldest ≤ offset ≤ newest). */
    readonly epochAt: (offset: number) => Promise<number>;
  },
  /** The names in `dir` as recovery listed them: a checkpoint not among them is not read (a failed open per file per partition made restarts slower). */
  listed: ReadonlySet<string>,
): Promise<CheckpointState> {
  const epochText = listed.has(LEADER_EPOCH_CHECKPOINT) ? await readLeaderEpochCheckpoint(fs, dir) : null;
  const parsed = epochText === null ? { entries: [], problem: null } : parseLeaderEpochCheckpoint(epochText, log.newest + 1);
  if (parsed.problem !== null) {
    logger.warn(
      { file: join(dir, LEADER_EPOCH_CHECKPOINT), problem: parsed.problem, kept: parsed.entries.length },
      'leader-epoch checkpoint cut to its valid prefix',
    );
  }
  const epochs = new LeaderEpochCache(parsed.entries);
  let epochsDirty = parsed.problem !== null;
  for (const e of log.epochStarts) epochsDirty = epochs.assign(e.epoch, e.startOffset) || epochsDirty;
  epochsDirty = epochs.clearLatest(log.newest + 1) || epochsDirty;
  if (log.oldest >= 0) epochsDirty = epochs.clearEarliest(log.oldest) || epochsDirty;
  const added = await addMissingEpochs(epochs, log);
  if (added.length > 0) {
    logger.warn({ file: join(dir, LEADER_EPOCH_CHECKPOINT), added }, 'leader-epoch checkpoint missed epochs of stored records; added them');
    epochsDirty = true;
  }

  const hwText = listed.has(HIGH_WATERMARK_CHECKPOINT) ? await readHighWatermarkCheckpoint(fs, dir) : null;
  const hw = hwText === null ? { highWatermark: -1, problem: null } : parseHighWatermarkCheckpoint(hwText, log.newest);
  if (hw.problem !== null) logger.warn({ dir, problem: hw.problem, highWatermark: hw.highWatermark }, 'high-watermark checkpoint not trusted');
  return {
    epochs,
    epochsDirty,
    epochsOnDisk: parsed.problem === null ? parsed.entries : null,
    highWatermark: hw.highWatermark,
    hwCheckpointed: hw.problem === null ? hw.highWatermark : Number.NaN, // no file reads as -1
  };
}

/**
 * Epochs of stored records that the checkpoint does not name: a crash after records of a new epoch
 * reached the disk and before the checkpoint flushed with them did (found by the power-loss tests,
 * docs/testing.md); the active segment's tail is re-read on open, but a segment sealed in that same
 * flush is not. Epochs never decrease along the log, so the start of each missing epoch is found by
 * a binary search over record headers: a few reads, only when the newest record's epoch is unknown.
 */
async function addMissingEpochs(
  epochs: LeaderEpochCache,
  log: { readonly newest: number; readonly oldest: number; readonly epochAt: (offset: number) => Promise<number> },
): Promise<EpochEntry[]> {
  const added: EpochEntry[] = [];
  if (log.oldest < 0) return added;
  while ((await log.epochAt(log.newest)) > epochs.lastEpoch) {
    const known = epochs.lastEpoch;
    let lo = Math.max(log.oldest, epochs.all[epochs.all.length - 1]?.startOffset ?? log.oldest);
    let hi = log.newest; // epochAt(hi) > known
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if ((await log.epochAt(mid)) > known) hi = mid;
      else lo = mid + 1;
    }
    const entry = { epoch: await log.epochAt(hi), startOffset: hi };
    if (!epochs.assign(entry.epoch, entry.startOffset)) break;
    added.push(entry);
  }
  return added;
}
