import { errorCode, FileSystem, OpenMode, StorageFile } from '../file-system';

/**
 * The descriptors of every partition log of a store, bounded (docs/storage.md "Open files"): a
 * segment's files are opened on demand, when an operation needs them, and an idle handle is closed
 * when the store holds more than `budget`, least recently used first. A handle is never closed
 * while an operation uses it (between `acquire` and `release`), so the budget is soft: when every
 * open handle is in use, one more is opened, and the surplus is closed as operations finish.
 *
 * The hot path pays no open while the budget has room: a busy partition's active segment is used
 * on every flush, so it stays at the recent end of the list.
 */
export class OpenFileCache {
  /** Handles open or being opened (each holds, or is about to hold, a descriptor). */
  private held = 0;
  /** Handles being closed: their descriptors are on their way out. */
  private closing = 0;
  /** Open handles nobody uses, least recently used first (a Map keeps insertion order). */
  private readonly idle = new Map<FileSlot, true>();

  constructor(
    readonly fs: FileSystem,
    /** Descriptors the store keeps open at most, unless operations in flight need more. */
    readonly budget: number,
  ) {
    if (!Number.isSafeInteger(budget) || budget < 1) throw new Error(`open file budget must be a positive integer: ${budget}`);
  }

  /** Descriptors held now: in use, idle, being opened or being closed. */
  get openCount(): number {
    return this.held + this.closing;
  }

  /** A handle on `path`, opened with `mode` when an operation needs it. */
  slot(path: string, mode: OpenMode): FileSlot {
    return new FileSlot(this, path, mode);
  }

  /** @internal FileSlot: a descriptor is about to be opened. */
  opening(): void {
    this.held++;
    this.evictOverBudget();
  }

  /** @internal FileSlot: an open failed. */
  openFailed(): void {
    this.held--;
  }

  /** @internal FileSlot: a handle starts closing (`done` when it is closed). */
  closeStarted(slot: FileSlot): void {
    this.idle.delete(slot);
    this.held--;
    this.closing++;
  }

  /** @internal FileSlot: a handle is closed. */
  closeDone(): void {
    this.closing--;
  }

  /** @internal FileSlot: the handle is in use. */
  busy(slot: FileSlot): void {
    this.idle.delete(slot);
  }

  /** @internal FileSlot: nobody uses the handle now; it becomes the most recently used. */
  unused(slot: FileSlot): void {
    this.idle.set(slot, true);
    this.evictOverBudget();
  }

  /**
   * @internal FileSlot: the system refused an open for lack of descriptors (EMFILE, ENFILE).
   * Closes every idle handle; true when there was one, so the open is worth trying again.
   */
  async freeDescriptors(): Promise<boolean> {
    if (this.idle.size === 0) return false;
    await Promise.all([...this.idle.keys()].map((slot) => slot.evict()));
    return true;
  }

  private evictOverBudget(): void {
    while (this.held > this.budget && this.idle.size > 0) {
      const oldest = this.idle.keys().next().value as FileSlot;
      void oldest.evict();
    }
  }
}

/** The system ran out of descriptors (per process, or system-wide). */
export const isOutOfDescriptors = (error: unknown): boolean => {
  const code = errorCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
};

/**
 * One file of a segment, as the cache sees it: opened on demand (one open shared by concurrent
 * callers), used between `acquire` and `release`, closed when evicted (and opened again by the next
 * `acquire`) or for good by `retire`.
 */
export class FileSlot {
  private file: StorageFile | null = null;
  private open: Promise<StorageFile> | null = null;
  private users = 0;
  private retired = false;
  private unusedWaiters: (() => void)[] = [];

  constructor(
    private readonly cache: OpenFileCache,
    readonly path: string,
    private readonly mode: OpenMode,
  ) {}

  /** Whether a descriptor is open now. */
  get isOpen(): boolean {
    return this.file !== null;
  }

  /**
   * The handle when it is open now (counted as in use until the matching `release`), else null
   * and nothing is counted: the append path's way to skip a promise when the budget had room.
   */
  tryAcquire(): StorageFile | null {
    if (this.file === null || this.retired) return null;
    if (++this.users === 1) this.cache.busy(this);
    return this.file;
  }

  /**
   * The handle, opened if needed; it stays open until the matching `release`. The use counts from
   * the call itself (synchronously), so a `retire` or `closeNow` that starts meanwhile waits for it.
   */
  async acquire(): Promise<StorageFile> {
    if (this.retired) throw new Error(`${this.path} is closed`);
    this.users++;
    if (this.file !== null) {
      if (this.users === 1) this.cache.busy(this);
      return this.file;
    }
    try {
      return await (this.open ?? this.startOpen(this.mode));
    } catch (error) {
      this.release();
      throw error;
    }
  }

  release(): void {
    this.users--;
    if (this.users > 0) return;
    if (this.unusedWaiters.length > 0) {
      const waiters = this.unusedWaiters;
      this.unusedWaiters = [];
      for (const wake of waiters) wake();
    } else if (this.file !== null) {
      this.cache.unused(this);
    }
  }

  /** Runs `fn` with the handle acquired. */
  async use<T>(fn: (file: StorageFile) => Promise<T>): Promise<T> {
    const file = await this.acquire();
    try {
      return await fn(file);
    } finally {
      this.release();
    }
  }

  /** Creates the file empty, or empties it (O_TRUNC), and keeps that handle for the next operations. */
  async createEmpty(): Promise<void> {
    await this.closeNow();
    if (this.retired) throw new Error(`${this.path} is closed`);
    this.users++;
    try {
      await (this.open ?? this.startOpen('createEmpty'));
    } finally {
      this.release();
    }
  }

  /** Closes the descriptor once nobody uses it; a later `acquire` opens the file again. */
  async closeNow(): Promise<void> {
    while (this.users > 0 || this.open !== null) {
      if (this.users > 0) await new Promise<void>((resolve) => this.unusedWaiters.push(resolve));
      else await this.open!.catch(() => undefined);
    }
    await this.evict();
  }

  /** Closes the descriptor once nobody uses it, for good: `acquire` fails from now on. */
  async retire(): Promise<void> {
    this.retired = true;
    await this.closeNow();
  }

  /** @internal OpenFileCache and closeNow: closes the handle now (only while nobody uses it). */
  async evict(): Promise<void> {
    const file = this.file;
    if (file === null) return;
    this.file = null;
    this.cache.closeStarted(this);
    try {
      await file.close();
    } catch {
      // close(2) frees the descriptor even when it reports an error; the data went through the writes and syncs.
    } finally {
      this.cache.closeDone();
    }
  }

  private startOpen(mode: OpenMode): Promise<StorageFile> {
    this.cache.opening();
    const open = this.openOnce(mode).then(
      (file) => {
        this.open = null;
        this.file = file;
        return file;
      },
      (error: unknown) => {
        this.open = null;
        this.cache.openFailed();
        throw error;
      },
    );
    this.open = open;
    return open;
  }

  /** One open; when the process is out of descriptors, idle handles are closed and it is tried once more. */
  private async openOnce(mode: OpenMode): Promise<StorageFile> {
    try {
      return await this.cache.fs.open(this.path, mode);
    } catch (error) {
      if (!isOutOfDescriptors(error) || !(await this.cache.freeDescriptors())) throw error;
      return this.cache.fs.open(this.path, mode);
    }
  }
}
