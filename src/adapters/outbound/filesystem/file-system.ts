/**
 * The file operations the commit log and the Raft storage use, and nothing more: the seam where a
 * test puts a simulated disk that loses what was never synced (docs/testing.md, "Power loss").
 * Production uses `NodeFileSystem`, which hands out Node's own `FileHandle`s, so the append path
 * pays no indirection per write.
 *
 * Durability, as both implementations must model it: a write is durable once `datasync`/`sync` of
 * its file returned, or when it returns if the file was opened `writeDsync`; a create, rename or
 * removal is durable once `syncDir` of its directory returned. Errors are Node's (`code` set to
 * `ENOSPC`, `EIO`, `ENOENT`...).
 */
export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<StorageFile>;
  /** The whole content of `path`; rejects with code `ENOENT` when it does not exist. */
  readFile(path: string): Promise<Buffer>;
  /** Entry names of a directory; rejects with code `ENOENT` when it does not exist. */
  readdir(path: string): Promise<string[]>;
  /** Creates `path` and its missing parents; resolves with the first directory created, or undefined when it existed. */
  mkdir(path: string): Promise<string | undefined>;
  /** Replaces `to` atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file, or a directory with everything in it; nothing when `path` does not exist. */
  remove(path: string): Promise<void>;
  /** Makes the entries of a directory (creates, renames, removals in it) durable. */
  syncDir(path: string): Promise<void>;
}

/**
 * How a file is opened:
 * - `read`: read only; the file must exist;
 * - `readWrite`: read and write at chosen positions; the file must exist;
 * - `readWriteCreate`: the same, created empty when missing;
 * - `createEmpty`: read and write, created or emptied;
 * - `writeDsync`: write only, every write durable when it returns (O_DSYNC); the file must exist.
 */
export type OpenMode = 'read' | 'readWrite' | 'readWriteCreate' | 'createEmpty' | 'writeDsync';

/** An open file: positional reads and writes (a subset of Node's `FileHandle`). */
export interface StorageFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Writes at `position`; may write less than asked (the caller continues), as writev(2) does. */
  writev(buffers: readonly Buffer[], position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  /** fdatasync(2): the data and the size are durable when it resolves. */
  datasync(): Promise<void>;
  /** fsync(2). */
  sync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  /** The whole content, read from position 0. */
  readFile(): Promise<Buffer>;
  close(): Promise<void>;
}

/** The code of a Node file-system error (`ENOSPC`, `EIO`...), or `UNKNOWN`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 ? code : 'UNKNOWN';
}
