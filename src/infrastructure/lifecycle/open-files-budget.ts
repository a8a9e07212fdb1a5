import { readFileSync } from 'node:fs';
import { err, ok, Result } from '../../domain/shared/result';

/** The budget when the process limit is unknown (not Linux), and the most the automatic budget takes. */
export const OPEN_FILES_AUTO_MAX = 4096;

/**
 * The soft RLIMIT_NOFILE of this process (`ulimit -n`; Node raises it to the hard limit when it
 * starts), read from /proc/self/limits: Node has no API for it. Null when unknown.
 */
export function processDescriptorLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const match = /^Max open files\s+(\d+)\s/m.exec(text);
  return match === null ? null : Number(match[1]);
}

/** Descriptors the process keeps for everything but partition logs: sockets (clients, NATS), the metadata log, checkpoint writes. */
const reserveFor = (limit: number): number => Math.min(1024, Math.floor(limit / 2));

/**
 * The partition logs' descriptor budget (docs/storage.md "Open files"): `streams.open.files.max`
 * when set, else half the process limit, at most 4096 (4096 when the limit is unknown). A set value
 * that leaves too little of the limit for the rest of the server is refused, naming the key.
 */
export function openFilesBudget(configured: number, limit: number | null): Result<number, string> {
  if (configured === 0) return ok(limit === null ? OPEN_FILES_AUTO_MAX : Math.max(1, Math.min(OPEN_FILES_AUTO_MAX, Math.floor(limit / 2))));
  if (limit !== null && configured > limit - reserveFor(limit)) {
    const most = limit - reserveFor(limit);
    return err(
      `"streams.open.files.max" is ${configured}, but this process may open only ${limit} files (ulimit -n), and ${reserveFor(limit)} of them are kept ` +
        `for connections and other files: set at most ${most}, or raise the limit`,
    );
  }
  return ok(configured);
}
