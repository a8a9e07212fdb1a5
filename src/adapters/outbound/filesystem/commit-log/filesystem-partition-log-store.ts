import { dirname, join } from 'node:path';
import { Logger } from '../../../../application/ports/logger.port';
import { StorageIoError } from '../../../../application/ports/partition-log.errors';
import { PartitionLog, PartitionLogOptions, PartitionLogStore } from '../../../../application/ports/partition-log.port';
import { assert } from '../../../../domain/shared/assert';
import { PartitionRef, partitionKey } from '../../../../domain/shared/ids';
import { FileSystem } from '../file-system';
import { NodeFileSystem } from '../node-file-system';
import { isOutOfDescriptors, OpenFileCache } from './open-file-cache';
import { SharedDirectorySyncs } from './shared-directory-syncs';
import { FilesystemPartitionLog } from './filesystem-partition-log';

export interface FilesystemPartitionLogStoreOptions {
  /** The broker's data directory; logs live in `<dataDir>/streams/<stream>/<partition>/`. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** How often an open log checkpoints a changed high watermark (default 5000, as Liftbridge). */
  readonly highWatermarkCheckpointIntervalMs?: number;
  /** The file operations (default: Node's); tests pass a simulated disk (docs/testing.md). */
  readonly fs?: FileSystem;
  /** Told of every failed write or sync of any log (metrics). */
  readonly onIoError?: (error: StorageIoError) => void;
  /**
   * Descriptors the logs of this store keep open at most (default 4096): files are opened on
   * demand and the least recently used idle one is closed beyond this (docs/storage.md "Open files").
   */
  readonly openFilesMax?: number;
}

const DEFAULT_HW_CHECKPOINT_INTERVAL_MS = 5000;
export const DEFAULT_OPEN_FILES_MAX = 4096;
const PARTITION_DIR = /^(0|[1-9]\d{0,9})$/;

/** `PartitionLogStore` over `<dataDir>/streams` (docs/storage.md "On-disk layout"). One per broker. */
export class FilesystemPartitionLogStore implements PartitionLogStore {
  private readonly streamsDir: string;
  private readonly logs = new Map<string, FilesystemPartitionLog>();
  private readonly opening = new Set<string>();
  private readonly fs: FileSystem;
  private readonly files: OpenFileCache;

  constructor(private readonly options: FilesystemPartitionLogStoreOptions) {
    this.streamsDir = join(options.dataDir, 'streams');
    // Partitions of a stream are created together: they share the fsyncs of the stream's directory.
    this.fs = new SharedDirectorySyncs(options.fs ?? new NodeFileSystem());
    this.files = new OpenFileCache(this.fs, options.openFilesMax ?? DEFAULT_OPEN_FILES_MAX);
  }

  /** Descriptors the logs of this store hold now, and the budget (docs/storage.md "Open files"). */
  get openFiles(): { readonly open: number; readonly budget: number } {
    return { open: this.files.openCount, budget: this.files.budget };
  }

  async open(ref: PartitionRef, options: PartitionLogOptions): Promise<PartitionLog> {
    const key = partitionKey(ref);
    assert(!this.logs.has(key) && !this.opening.has(key), `partition log ${ref.stream}/${ref.partition} is already open`);
    this.opening.add(key);
    try {
      let log: FilesystemPartitionLog;
      try {
        log = await this.openLog(ref, options);
      } catch (error) {
        // Out of descriptors: the idle handles of other logs are closed, and the open tried once more.
        if (!isOutOfDescriptors(error) || !(await this.files.freeDescriptors())) throw error;
        log = await this.openLog(ref, options);
      }
      this.logs.set(key, log);
      return log;
    } finally {
      this.opening.delete(key);
    }
  }

  private async openLog(ref: PartitionRef, options: PartitionLogOptions): Promise<FilesystemPartitionLog> {
    const key = partitionKey(ref);
    const dir = this.partitionDir(ref); // created by the open when missing (durably)
    return FilesystemPartitionLog.open(ref, options, {
      fs: this.fs,
      files: this.files,
      dir,
      logger: this.options.logger.child({ stream: ref.stream, partition: ref.partition }),
      highWatermarkCheckpointIntervalMs: this.options.highWatermarkCheckpointIntervalMs ?? DEFAULT_HW_CHECKPOINT_INTERVAL_MS,
      onClosed: (closed) => {
        if (this.logs.get(key) === closed) this.logs.delete(key);
      },
      ...(this.options.onIoError !== undefined ? { onIoError: this.options.onIoError } : {}),
    });
  }

  async delete(ref: PartitionRef): Promise<void> {
    await this.logs.get(partitionKey(ref))?.close('deleted');
    const dir = this.partitionDir(ref);
    await this.fs.remove(dir);
    await this.fs.syncDir(dirname(dir)).catch(() => undefined);
  }

  async deleteStream(stream: string): Promise<void> {
    const open = [...this.logs.values()].filter((log) => log.ref.stream === stream);
    await Promise.all(open.map((log) => log.close('deleted')));
    await this.fs.remove(this.streamDir(stream));
    await this.fs.syncDir(this.streamsDir).catch(() => undefined);
  }

  async list(): Promise<PartitionRef[]> {
    const refs: PartitionRef[] = [];
    for (const stream of await readdirOrEmpty(this.fs, this.streamsDir)) {
      if (!isSafeStreamName(stream)) continue;
      for (const partition of await readdirOrEmpty(this.fs, join(this.streamsDir, stream))) {
        if (PARTITION_DIR.test(partition)) refs.push({ stream, partition: Number(partition) });
      }
    }
    return refs;
  }

  private streamDir(stream: string): string {
    // Names are validated at the API (docs/reliability.md "Bad inputs", A2); a bad one here is a bug, and must never
    // reach the file system as a path.
    assert(isSafeStreamName(stream), `stream name is not usable as a directory: ${JSON.stringify(stream)}`);
    return join(this.streamsDir, stream);
  }

  private partitionDir(ref: PartitionRef): string {
    assert(Number.isSafeInteger(ref.partition) && ref.partition >= 0, `bad partition id ${ref.partition}`);
    return join(this.streamDir(ref.stream), String(ref.partition));
  }
}

function isSafeStreamName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

async function readdirOrEmpty(fs: FileSystem, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
