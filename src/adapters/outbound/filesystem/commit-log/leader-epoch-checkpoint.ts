import { join } from 'node:path';
import { EpochEntry } from '../../../../domain/partition/log/leader-epoch-cache';
import { FileSystem } from '../file-system';
import { readFileIfExists, writeFileAtomic } from './file-io';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
const VERSION = 0;

/** Text format (docs/storage.md "Checkpoints"): version, entry count, then `<epoch> <startOffset>` lines. */
export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): string {
  return [String(VERSION), String(entries.length), ...entries.map((e) => `${e.epoch} ${e.startOffset}`)].join('\n') + '\n';
}

export interface ParsedLeaderEpochs {
  /** The longest valid prefix: epochs strictly increasing, offsets non-decreasing and <= logEndOffset. */
  readonly entries: EpochEntry[];
  /** What was wrong, or null when the whole file was valid. */
  readonly problem: string | null;
}

/**
 * Parses a checkpoint tolerantly (docs/reliability.md "Bad inputs", D15): anything wrong keeps the valid prefix and
 * says why, instead of refusing to open the partition.
 */
export function parseLeaderEpochCheckpoint(text: string, logEndOffset: number): ParsedLeaderEpochs {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  const number = (i: number): number | null => {
    const t = tokens[i];
    if (t === undefined || !/^\d{1,16}$/.test(t)) return null;
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : null;
  };
  if (tokens.length === 0) return { entries: [], problem: 'empty file' };
  if (number(0) !== VERSION) return { entries: [], problem: `unknown version ${JSON.stringify(tokens[0])}` };
  const count = number(1);
  if (count === null) return { entries: [], problem: 'bad entry count' };
  const entries: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const epoch = number(2 + 2 * i);
    const startOffset = number(3 + 2 * i);
    if (epoch === null || startOffset === null) return { entries, problem: `entry ${i} is missing or not a number` };
    const last = entries[entries.length - 1];
    if (last !== undefined && (epoch <= last.epoch || startOffset < last.startOffset)) {
      return { entries, problem: `entry ${i} (${epoch} ${startOffset}) does not follow (${last.epoch} ${last.startOffset})` };
    }
    if (startOffset > logEndOffset) return { entries, problem: `entry ${i} starts at ${startOffset}, past the log end ${logEndOffset}` };
    entries.push({ epoch, startOffset });
  }
  if (tokens.length !== 2 + 2 * count) return { entries, problem: `${tokens.length - 2 - 2 * count} extra tokens` };
  return { entries, problem: null };
}

export async function readLeaderEpochCheckpoint(fs: FileSystem, dir: string): Promise<string | null> {
  return (await readFileIfExists(fs, join(dir, LEADER_EPOCH_CHECKPOINT)))?.toString('utf8') ?? null;
}

export const writeLeaderEpochCheckpoint = (fs: FileSystem, dir: string, entries: readonly EpochEntry[]): Promise<void> =>
  writeFileAtomic(fs, dir, join(dir, LEADER_EPOCH_CHECKPOINT), formatLeaderEpochCheckpoint(entries));
