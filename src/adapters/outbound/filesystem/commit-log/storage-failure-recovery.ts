import { join } from 'node:path';
import { FileSystem } from '../file-system';
import { writeFully } from './file-io';
import { cut, seal } from './log-flush';
import { Segment } from './segment';

/**
 * Back-off between recovery attempts of a log whose write or sync failed: 1 s, doubling, at most
 * 8 s, so a log recovers within about 8 s of space coming back (docs/reliability.md "Scenarios", scenario 25,
 * asks for 10 s). An attempt costs a few system calls and one 4 KiB probe write.
 */
export const RECOVERY_DELAY_MIN_MS = 1000;
export const RECOVERY_DELAY_MAX_MS = 8000;
/** Written, synced and removed to check the disk takes writes again (`*.tmp`: removed on open if left). */
export const WRITE_PROBE_FILE = 'write-probe.tmp';
const WRITE_PROBE_BYTES = 4096;

/**
 * Runs `attempt` after a back-off until it reports success; `attempt` resolves true when the
 * storage recovered, false to be tried again later. One attempt at a time.
 */
export class RecoveryLoop {
  private timer: NodeJS.Timeout | null = null;
  private delayMs = RECOVERY_DELAY_MIN_MS;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly attempt: () => Promise<boolean>) {}

  /** The delay before the next attempt (for the log line that announces it). */
  get nextDelayMs(): number {
    return this.delayMs;
  }

  schedule(): void {
    if (this.stopped || this.timer !== null || this.running !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.run().finally(() => (this.running = null));
    }, this.delayMs);
    this.timer.unref();
  }

  /** No more attempts; resolves once an attempt under way finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async run(): Promise<void> {
    if (await this.attempt()) {
      this.delayMs = RECOVERY_DELAY_MIN_MS;
      return;
    }
    this.delayMs = Math.min(this.delayMs * 2, RECOVERY_DELAY_MAX_MS);
    this.running = null;
    this.schedule();
  }
}

/**
 * Brings the files of a failed log back in line with its memory, after the log dropped (in memory)
 * everything past its durable offset: segments it no longer has are removed (those past the active
 * one newest first, made durable before the active one is cut, as a truncation does; those before
 * the first one oldest first, as retention does); sealed segments whose seal failed are sealed
 * (synced) before a later segment may exist on disk, as a roll does; the active segment is cut to
 * what the log holds (or created, if its roll never got to it) with fresh write handles; and a
 * probe write checks that the disk takes writes again. Throws when any step fails (the log stays
 * failed and tries again later).
 */
export async function repairFiles(fs: FileSystem, dir: string, retired: readonly Segment[], segments: readonly Segment[]): Promise<void> {
  const first = segments[0]!;
  const active = segments[segments.length - 1]!;
  const pending = retired.filter((s) => !s.removed);
  const later = pending.filter((s) => s.baseOffset >= active.baseOffset).sort((a, b) => b.baseOffset - a.baseOffset);
  const earlier = pending.filter((s) => s.baseOffset < first.baseOffset).sort((a, b) => a.baseOffset - b.baseOffset);
  for (const segment of later) await segment.remove();
  if (later.length > 0) await fs.syncDir(dir);
  for (const segment of earlier) await segment.remove();
  for (const segment of segments.slice(0, -1)) {
    if (segment.unsynced || segment.indexUnsynced || segment.indexWrittenCount < segment.index.count) await seal(segment);
  }
  await active.closeIndex(); // the O_DSYNC and index handles are opened again by the next write
  if (!active.hasFiles) await active.create();
  else await cut(active, active.bytes, active.index.count);
  await fs.syncDir(dir);
  await probeWrites(fs, dir);
}

async function probeWrites(fs: FileSystem, dir: string): Promise<void> {
  const path = join(dir, WRITE_PROBE_FILE);
  const probe = await fs.open(path, 'createEmpty');
  try {
    await writeFully(probe, [Buffer.alloc(WRITE_PROBE_BYTES)], 0);
    await probe.datasync();
  } finally {
    await probe.close();
    await fs.remove(path);
  }
}
