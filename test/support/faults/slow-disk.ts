import * as fs from 'node:fs';
import * as path from 'node:path';

const BLKIO = '/sys/fs/cgroup/blkio';

/**
 * A slow disk for one broker process (docs/reliability.md, "Slow disk"): a cgroup v1 blkio group
 * whose writes to the data directory's block device are throttled to `writeIops` operations per
 * second. Each fsync then costs several operations. Needs root and the blkio controller (this
 * machine kind has both); `available()` says why not otherwise. Moving the process back to the
 * root group heals it.
 */
export class SlowDisk {
  private constructor(private readonly dir: string) {}

  /** Null when the machine can throttle `dataDir`'s device, else the reason it cannot. */
  static unavailable(dataDir: string): string | null {
    if (!fs.existsSync(path.join(BLKIO, 'blkio.throttle.write_iops_device'))) return `no cgroup v1 blkio controller at ${BLKIO}`;
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
    if (!fs.existsSync(dataDir)) return `${dataDir} does not exist`;
    return null;
  }

  static create(name: string, dataDir: string, writeIops: number): SlowDisk {
    const reason = SlowDisk.unavailable(dataDir);
    if (reason !== null) throw new Error(`cannot throttle the disk: ${reason}`);
    const dir = path.join(BLKIO, name);
    fs.mkdirSync(dir, { recursive: true });
    const dev = fs.statSync(dataDir).dev;
    // Linux dev_t: major in bits 8-19, minor in bits 0-7 and 20-31.
    const major = (dev >> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    fs.writeFileSync(path.join(dir, 'blkio.throttle.write_iops_device'), `${major}:${minor} ${writeIops}`);
    return new SlowDisk(dir);
  }

  /** Moves the process (all its threads) into the throttled group. */
  slow(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** Moves the process back to the root group. */
  heal(pid: number): void {
    try {
      fs.writeFileSync(path.join(BLKIO, 'cgroup.procs'), String(pid));
    } catch {
      // the process is gone
    }
  }

  /** Removes the group (its processes must have left or exited). */
  destroy(): void {
    try {
      fs.rmdirSync(this.dir);
    } catch {
      // still in use or already gone: the next run reuses it
    }
  }
}
