import { join } from 'node:path';
import { FileSystem } from '../file-system';
import { readFileIfExists, writeFileAtomic } from './file-io';

/** Liftbridge's file name for the high watermark (docs/storage.md "Checkpoints"). */
export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface ParsedHighWatermark {
  readonly highWatermark: number;
  readonly problem: string | null;
}

/**
 * ASCII decimal int64 without newline (docs/storage.md "Checkpoints"). Tolerant (docs/reliability.md "Bad inputs" D14, Liftbridge
 * #333): empty or garbage → -1, above the newest offset → the newest offset; each with a reason.
 */
export function parseHighWatermarkCheckpoint(text: string, newestOffset: number): ParsedHighWatermark {
  const trimmed = text.trim();
  if (!/^-?\d{1,19}$/.test(trimmed)) {
    return { highWatermark: -1, problem: trimmed.length === 0 ? 'empty file' : `not a number: ${JSON.stringify(trimmed.slice(0, 40))}` };
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value < -1) return { highWatermark: -1, problem: `out of range: ${trimmed}` };
  if (value > newestOffset) return { highWatermark: newestOffset, problem: `${value} is past the newest offset ${newestOffset}` };
  return { highWatermark: value, problem: null };
}

export async function readHighWatermarkCheckpoint(fs: FileSystem, dir: string): Promise<string | null> {
  return (await readFileIfExists(fs, join(dir, HIGH_WATERMARK_CHECKPOINT)))?.toString('latin1') ?? null;
}

export const writeHighWatermarkCheckpoint = (fs: FileSystem, dir: string, highWatermark: number): Promise<void> =>
  writeFileAtomic(fs, dir, join(dir, HIGH_WATERMARK_CHECKPOINT), String(highWatermark));

/**
 * Writes the high watermark when it changed since the last write, one write at a time; `current`
 * is read when a write starts (a later call never writes an older value), null to write nothing.
 * A failure is handed to `onError`, never thrown: followers relearn the high watermark (docs/storage.md "Checkpoints").
 */
export class HighWatermarkCheckpointer {
  private writing: Promise<void> | null = null;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The value in the file; NaN when it must be rewritten. */
    private written: number,
    private readonly current: () => number | null,
    private readonly onError: (error: unknown) => void,
  ) {}

  async write(): Promise<void> {
    while (this.writing !== null) await this.writing;
    const hw = this.current();
    if (hw === null || hw === this.written) return;
    this.writing = writeHighWatermarkCheckpoint(this.fs, this.dir, hw)
      .then(() => void (this.written = hw))
      .catch(this.onError)
      .finally(() => (this.writing = null));
    await this.writing;
  }

  /** Resolves when no write is under way. */
  async idle(): Promise<void> {
    await this.writing;
  }
}
