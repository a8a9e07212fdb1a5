import { constants } from 'node:fs';
import { FileHandle, open, rename, rm } from 'node:fs/promises';

/** Open for positional reads and writes, creating the file if needed (no O_APPEND: we pick positions). */
export const READ_WRITE_CREATE = constants.O_RDWR | constants.O_CREAT;

/** Reads exactly `length` bytes at `position`; a short file is an error (the caller clamps first). */
export async function readFully(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return buf;
}

/** Writes every buffer at `position` with as few syscalls as the kernel allows (one writev normally). */
export async function writeFully(handle: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    if (bytesWritten === 0 && rest.length > 0) throw new Error(`write made no progress at byte ${at}`);
    pending = rest;
  }
}

/** Makes a directory entry change (create, rename, unlink) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically: write a temp file, fsync it, rename it over `path`, fsync the
 * directory. A crash leaves either the old or the new content (and maybe a `.tmp` that recovery
 * removes), never a torn file.
 */
export async function writeFileAtomic(dir: string, path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}
