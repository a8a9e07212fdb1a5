import { dirname } from 'node:path';
import { FileSystem, StorageFile } from '../file-system';
import { FileSlot } from './open-file-cache';

/** Reads exactly `length` bytes at `position`; a short file is an error (the caller clamps first). */
export async function readFully(handle: StorageFile, position: number, length: number): Promise<Buffer> {
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
export async function writeFully(handle: StorageFile, buffers: readonly Buffer[], position: number): Promise<void> {
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

/** `writeFully` through a cached handle, acquired for the write (no closure: this is the append path). */
export async function writeFullyThrough(slot: FileSlot, buffers: readonly Buffer[], position: number): Promise<void> {
  const handle = slot.tryAcquire() ?? (await slot.acquire());
  try {
    await writeFully(handle, buffers, position);
  } finally {
    slot.release();
  }
}

/**
 * Replaces `path` atomically: write a temp file, fsync it, rename it over `path`, fsync the
 * directory. A crash leaves either the old or the new content (and maybe a `.tmp` that recovery
 * removes), never a torn file.
 */
export async function writeFileAtomic(fs: FileSystem, dir: string, path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await fs.open(tmp, 'createEmpty');
  try {
    await writeFully(handle, [typeof data === 'string' ? Buffer.from(data, 'utf8') : data], 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.remove(tmp);
    throw e;
  }
  await fs.syncDir(dir);
}

/** The content of `path`, or null when it does not exist. */
export async function readFileIfExists(fs: FileSystem, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Creates `dir` and its missing parents so that they survive a crash like the files in them. */
export async function mkdirDurable(fs: FileSystem, dir: string): Promise<void> {
  const created = await fs.mkdir(dir);
  if (created === undefined) return;
  for (let d = dir; d.length >= created.length; d = dirname(d)) await fs.syncDir(dirname(d));
}
