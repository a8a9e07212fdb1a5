import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Mounts a tmpfs of `bytes` on `dir` (a small disk that fills up); needs root, and says so when it cannot. */
export function mountTmpfs(dir: string, bytes: number): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`this test mounts a small tmpfs and needs root (mount -t tmpfs): ${String((error as Error).message)}`);
  }
}

export function unmountTmpfs(dir: string): void {
  execFileSync('umount', [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes a filler file until the disk is full (ENOSPC). */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}
