import { FileSystem, OpenMode, StorageFile } from '../file-system';

interface DirectorySync {
  inFlight: Promise<void>;
  /** The sync that starts once `inFlight` is done, shared by every caller that came meanwhile. */
  queued: Promise<void> | null;
}

/**
 * A `FileSystem` whose directory syncs are shared: a caller that asks while a sync of the same
 * directory runs joins the next one, which starts when that one is done (the running one may have
 * started before the caller's change, so it cannot count). Creating a stream's partitions 32 at a
 * time made each fsync the stream's directory after creating its own: now those fsyncs are one
 * per round, not one per partition. Every other operation is the wrapped file system's.
 */
export class SharedDirectorySyncs implements FileSystem {
  private readonly syncs = new Map<string, DirectorySync>();

  constructor(private readonly fs: FileSystem) {}

  open(path: string, mode: OpenMode): Promise<StorageFile> {
    return this.fs.open(path, mode);
  }

  readFile(path: string): Promise<Buffer> {
    return this.fs.readFile(path);
  }

  readdir(path: string): Promise<string[]> {
    return this.fs.readdir(path);
  }

  mkdir(path: string): Promise<string | undefined> {
    return this.fs.mkdir(path);
  }

  rename(from: string, to: string): Promise<void> {
    return this.fs.rename(from, to);
  }

  remove(path: string): Promise<void> {
    return this.fs.remove(path);
  }

  syncDir(path: string): Promise<void> {
    const sync = this.syncs.get(path);
    if (sync === undefined) {
      const entry: DirectorySync = { inFlight: Promise.resolve(), queued: null };
      entry.inFlight = this.run(path, entry);
      this.syncs.set(path, entry);
      return entry.inFlight;
    }
    sync.queued ??= sync.inFlight
      .catch(() => undefined)
      .then(() => {
        sync.queued = null;
        sync.inFlight = this.run(path, sync);
        return sync.inFlight;
      });
    return sync.queued;
  }

  private run(path: string, entry: DirectorySync): Promise<void> {
    const sync = this.fs.syncDir(path);
    const forget = (): void => {
      if (entry.queued === null && this.syncs.get(path) === entry) this.syncs.delete(path);
    };
    sync.then(forget, forget);
    return sync;
  }
}
