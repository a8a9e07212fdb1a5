import * as fs from 'node:fs';

/** Linux reports CPU times in /proc in clock ticks; USER_HZ is 100 on every mainstream build. */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system, all threads) of process `pid` in milliseconds, from /proc/<pid>/stat;
 * null when it cannot be read (not Linux, or the process is gone).
 */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Idle time (idle + iowait) summed over all CPUs of the machine, in milliseconds, from /proc/stat. */
export function machineIdleMs(): number | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.split(/\s+/);
    return (Number(cpu[4]) + Number(cpu[5])) * MS_PER_TICK;
  } catch {
    return null;
  }
}

/**
 * Bytes written to the machine's disks so far (sectors written of whole virtio, SCSI/SATA and NVMe
 * disks in /proc/diskstats, 512 bytes each), or null when unknown: shows writes that are not the
 * case's own (page-cache writeback of an earlier case, another process).
 */
export function diskWrittenBytes(): number | null {
  try {
    let sectors = 0;
    for (const line of fs.readFileSync('/proc/diskstats', 'latin1').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (/^(?:[vsh]d[a-z]+|xvd[a-z]+|nvme\d+n\d+)$/.test(f[2] ?? '')) sectors += Number(f[9]);
    }
    return sectors * 512;
  } catch {
    return null;
  }
}

/** A labelled group of processes whose CPU time is summed (e.g. the three nodes of a cluster). */
export interface MeteredProcesses {
  readonly label: string;
  readonly pids: readonly number[];
}

/** CPU milliseconds per label, and the disk bytes written so far, at one moment. */
export interface CpuSnapshot {
  readonly cpuMs: ReadonlyMap<string, number>;
  readonly diskBytes: number;
}

/**
 * CPU time per labelled group of child processes, of this process ("bench", the client of every
 * case) and the machine's idle time (all CPUs) between two snapshots, and the disk bytes written
 * meanwhile: tells which process a case's time went to, and whether a run was slower because a
 * process worked harder or because the pipeline left the machine idle.
 */
export class CpuMeter {
  constructor(private readonly groups: readonly MeteredProcesses[]) {}

  snapshot(): CpuSnapshot {
    const cpuMs = new Map<string, number>();
    const own = process.cpuUsage();
    cpuMs.set('bench', (own.user + own.system) / 1000);
    cpuMs.set('idle', machineIdleMs() ?? 0);
    for (const group of this.groups) {
      let total = 0;
      for (const pid of group.pids) total += processCpuMs(pid) ?? 0;
      cpuMs.set(group.label, total);
    }
    return { cpuMs, diskBytes: diskWrittenBytes() ?? 0 };
  }

  /**
   * Milliseconds of CPU per group since `before`, in meter order (groups that used under 20 ms left
   * out), and megabytes (10^6 bytes) written to disk meanwhile.
   */
  since(before: CpuSnapshot): { cpuMs: Record<string, number>; diskWrittenMB: number } {
    const after = this.snapshot();
    const used: Record<string, number> = {};
    for (const [label, ms] of after.cpuMs) {
      const delta = Math.round(ms - (before.cpuMs.get(label) ?? ms));
      if (delta >= 20) used[label] = delta;
    }
    return { cpuMs: used, diskWrittenMB: (after.diskBytes - before.diskBytes) / 1e6 };
  }
}
