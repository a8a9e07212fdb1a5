import * as fs from 'node:fs';

/** Resident set size of process `pid` in bytes (VmRSS in /proc/<pid>/status); null when it cannot be read. */
export function processRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
