import { readdirSync, readlinkSync } from 'node:fs';

/** Descriptors this process holds on files under `dir` (Linux /proc), by path. */
export function openDescriptorsUnder(dir: string): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) paths.push(target);
    } catch {
      // closed between the listing and the readlink
    }
  }
  return paths;
}
