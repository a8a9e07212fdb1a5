import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * One broker per data directory (docs/reliability.md "Bad inputs", C10): a lock file holding the owner's pid.
 * A lock whose process is gone is stale and taken over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    await fs.mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(file, String(process.pid), { flag: 'wx' });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
          throw new Error(`data directory ${dataDir} is in use by another liftbridge process (pid ${owner})`);
        }
        await fs.rm(file, { force: true });
      }
    }
    throw new Error(`could not lock data directory ${dataDir}`);
  }

  async release(): Promise<void> {
    await fs.rm(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
