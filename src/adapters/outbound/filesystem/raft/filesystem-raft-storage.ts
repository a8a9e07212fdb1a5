import * as path from 'node:path';
import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../../../domain/consensus/raft';
import { EMPTY_HARD_STATE } from '../../../../domain/consensus/raft';
import { Logger } from '../../../../application/ports/logger.port';
import { StorageIoError } from '../../../../application/errors/broker-errors';
import { RaftStorage, RaftStorageCorruptedError } from '../../../../application/ports/raft-storage.port';
import { mkdirDurable, readFileIfExists, writeFileAtomic, writeFully } from '../commit-log/file-io';
import { errorCode, FileSystem, StorageFile } from '../file-system';
import { NodeFileSystem } from '../node-file-system';
import { decodeEntry, decodeHardState, decodeSnapshot, encodeEntry, encodeHardState, encodeSnapshot, readFrame, WAL_RECORD_BYTES_MAX } from './raft-records';

export const WAL_FILE = 'raft.wal';
export const HARD_STATE_FILE = 'hard-state.bin';
export const SNAPSHOT_FILE = 'snapshot.bin';

export interface FilesystemRaftStorageOptions {
  /** The node's own directory; created if missing. */
  readonly dir: string;
  readonly logger: Logger;
  /** The file operations (default: Node's); tests pass a simulated disk (docs/testing.md). */
  readonly fs?: FileSystem;
}

/**
 * `RaftStorage` on the local filesystem (docs/style.md "Storage", docs/raft.md "Storage"), three files in `dir`:
 * - `raft.wal`: the entries after the snapshot, one CRC-32C framed record each (raft-records.ts),
 *   appended and fsynced; a conflicting suffix is removed with ftruncate before the new entries are
 *   written. A torn or corrupt tail is cut on `load`, with a warning.
 * - `hard-state.bin` and `snapshot.bin`: one framed record each, replaced atomically (write a temp
 *   file, fsync, rename, fsync the directory). Damage to either makes `load` throw
 *   `RaftStorageCorruptedError`: they cannot be cut back to something safe.
 * A snapshot rewrites the WAL (atomically, as above) with the entries it keeps; a crash between
 * the snapshot and the WAL rewrite is reconciled on `load` by the same rule.
 * A failed write or sync (a full disk) rejects with `StorageIoError`; the next save first reads the
 * files again, so the driver can retry the same save once the disk has room (docs/raft.md).
 */
export class FilesystemRaftStorage implements RaftStorage {
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly fs: FileSystem;
  private wal: StorageFile | null = null;
  private hardState: HardState = EMPTY_HARD_STATE;
  private snapshot: Snapshot | null = null;
  /** entries[i].index === snapshotIndex + 1 + i; offsets[i] is where its record starts in the WAL. */
  private entries: Entry[] = [];
  private offsets: number[] = [];
  private walBytes = 0;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** A write failed half-way: the in-memory mirror may not match the files, so the next save reads them again first. */
  private stale = false;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(options: FilesystemRaftStorageOptions) {
    this.dir = options.dir;
    this.fs = options.fs ?? new NodeFileSystem();
    this.logger = options.logger.child({ component: 'raft-storage', dir: options.dir });
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  load(): Promise<PersistedRaftState> {
    return this.enqueue(async () => {
      try {
        return await this.recover();
      } catch (e) {
        if (this.state === 'new') {
          const wal = this.wal;
          this.wal = null;
          await wal?.close().catch(() => undefined);
        }
        throw e;
      }
    });
  }

  save(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void> {
    return this.enqueue(async () => {
      if (this.state !== 'open') throw new Error(this.state === 'new' ? 'raft storage: load() must be called before save()' : 'raft storage is closed');
      if (this.stale) await this.reread();
      const plan = this.plan(entries, snapshot); // throws on a contract breach, before any write
      try {
        await this.write(hardState, plan, snapshot);
      } catch (e) {
        this.stale = true;
        throw this.ioError('failed to write or sync', e);
      }
    });
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      this.state = 'closed';
      const wal = this.wal;
      this.wal = null;
      await wal?.close();
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.serial.then(task, task);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async recover(): Promise<PersistedRaftState> {
    if (this.state === 'closed') throw new Error('raft storage is closed');
    if (this.state === 'open') return this.current();
    // Durably: a node whose hard state vanished with its directory could vote twice in a term.
    await mkdirDurable(this.fs, this.dir);
    await this.readFiles();
    this.state = 'open';
    return this.current();
  }

  /**
   * After a failed write, before the retried save: the files are the truth again (a torn WAL tail
   * is cut, a snapshot that landed without its WAL rewrite is finished), with a fresh WAL handle.
   * Damage found now is not an I/O failure and is thrown as it is (`RaftStorageCorruptedError`).
   */
  private async reread(): Promise<void> {
    const wal = this.wal;
    this.wal = null;
    await wal?.close().catch(() => undefined);
    try {
      await this.readFiles();
    } catch (e) {
      throw e instanceof RaftStorageCorruptedError ? e : this.ioError('failed to read its files after a failed write', e);
    }
    this.stale = false;
  }

  private ioError(what: string, cause: unknown): StorageIoError {
    const code = errorCode(cause);
    return new StorageIoError(`raft storage ${this.dir} ${what} (${code})`, code, { cause });
  }

  /** Reads the files into the mirror (opening the WAL), with the repairs `load` documents. */
  private async readFiles(): Promise<void> {
    for (const name of [WAL_FILE, HARD_STATE_FILE, SNAPSHOT_FILE]) await this.fs.remove(this.file(`${name}.tmp`));
    const hardState = (await this.readSingleRecord(HARD_STATE_FILE, decodeHardState)) ?? EMPTY_HARD_STATE;
    this.snapshot = await this.readSingleRecord(SNAPSHOT_FILE, decodeSnapshot);
    const snapshotIndex = this.snapshot?.index ?? 0;

    this.wal = await this.fs.open(this.file(WAL_FILE), 'readWriteCreate');
    // The WAL may have just been created: its entry must be durable before entries synced into it count.
    await this.fs.syncDir(this.dir);
    const scanned = await this.scanWal(this.wal);
    const first = scanned[0];
    if (first !== undefined && first.index > snapshotIndex + 1) {
      throw new RaftStorageCorruptedError(this.file(WAL_FILE), `it starts at index ${first.index} but the snapshot ends at ${snapshotIndex}`);
    }
    if (first !== undefined && first.index <= snapshotIndex) {
      // A crash after the snapshot was written and before the WAL was rewritten: finish the job.
      await this.rewriteWal(keptAfterSnapshot(scanned, this.snapshot));
    }

    this.hardState = { ...hardState, commit: Math.max(hardState.commit, snapshotIndex) };
    const lastIndex = snapshotIndex + this.entries.length;
    if (this.hardState.commit > lastIndex) {
      throw new RaftStorageCorruptedError(
        this.file(WAL_FILE),
        `the hard state commits index ${this.hardState.commit} but the log ends at ${lastIndex} (committed entries are lost)`,
      );
    }
  }

  private current(): PersistedRaftState {
    const snapshotIndex = this.snapshot?.index ?? 0;
    return {
      hardState: { ...this.hardState, commit: Math.max(this.hardState.commit, snapshotIndex) },
      snapshot: this.snapshot,
      entries: [...this.entries],
      appliedIndex: snapshotIndex,
    };
  }

  /** The decoded record of a single-record file, null when the file does not exist. */
  private async readSingleRecord<T>(name: string, decode: (payload: Buffer) => T): Promise<T | null> {
    const file = this.file(name);
    const buf = await readFileIfExists(this.fs, file);
    if (buf === null) return null;
    const framed = readFrame(buf, 0, buf.length);
    if (typeof framed === 'string') throw new RaftStorageCorruptedError(file, framed);
    if (framed.end !== buf.length) throw new RaftStorageCorruptedError(file, `${buf.length - framed.end} unexpected bytes after the record`);
    try {
      return decode(framed.payload);
    } catch (e) {
      throw new RaftStorageCorruptedError(file, (e as Error).message);
    }
  }

  /** Reads the WAL into the mirror, cutting a torn or corrupt tail; returns the entries read. */
  private async scanWal(wal: StorageFile): Promise<Entry[]> {
    const buf = await wal.readFile();
    const entries: Entry[] = [];
    const offsets: number[] = [];
    let position = 0;
    let problem: string | null = null;
    while (position < buf.length) {
      const framed = readFrame(buf, position, WAL_RECORD_BYTES_MAX);
      if (typeof framed === 'string') {
        problem = framed;
        break;
      }
      let entry: Entry;
      try {
        entry = decodeEntry(framed.payload);
      } catch (e) {
        problem = (e as Error).message;
        break;
      }
      const previous = entries[entries.length - 1];
      if (previous !== undefined && entry.index !== previous.index + 1) {
        problem = `index ${entry.index} follows ${previous.index}`;
        break;
      }
      entries.push(entry);
      offsets.push(position);
      position = framed.end;
    }
    if (problem !== null) {
      this.logger.warn(
        { file: this.file(WAL_FILE), position, bytesCut: buf.length - position, entriesKept: entries.length, problem },
        'raft WAL has a torn or corrupt tail; cutting it',
      );
      await wal.truncate(position);
      await wal.sync();
    }
    this.entries = entries;
    this.offsets = offsets;
    this.walBytes = position;
    return entries;
  }

  /** Validates a save and works out the WAL change: keep `base[0..keep)`, then write `fresh`. */
  private plan(entries: readonly Entry[], snapshot: Snapshot | undefined): WalPlan {
    const currentSnapshotIndex = this.snapshot?.index ?? 0;
    if (snapshot !== undefined && snapshot.index < currentSnapshotIndex) {
      throw new Error(`snapshot at ${snapshot.index} is older than the stored one at ${currentSnapshotIndex}`);
    }
    const snapshotIndex = snapshot?.index ?? currentSnapshotIndex;
    const base = snapshot === undefined ? this.entries : keptAfterSnapshot(this.entries, snapshot);
    const fresh = entries.filter((e) => e.index > snapshotIndex);
    for (let i = 1; i < fresh.length; i++) {
      if ((fresh[i] as Entry).index !== (fresh[i - 1] as Entry).index + 1) {
        throw new Error(`entries are not consecutive: ${(fresh[i] as Entry).index} follows ${(fresh[i - 1] as Entry).index}`);
      }
    }
    const first = fresh[0];
    const keep = first === undefined ? base.length : first.index - snapshotIndex - 1;
    if (keep > base.length) throw new Error(`entry ${first?.index} leaves a gap after the last stored index ${snapshotIndex + base.length}`);
    return { base, keep, fresh };
  }

  private async write(hardState: HardState | undefined, { base, keep, fresh }: WalPlan, snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot !== undefined) {
      await writeFileAtomic(this.fs, this.dir, this.file(SNAPSHOT_FILE), encodeSnapshot(snapshot));
      this.snapshot = snapshot;
      await this.rewriteWal([...base.slice(0, keep), ...fresh]);
    } else if (fresh.length > 0) {
      await this.appendWal(keep, fresh);
    }
    if (hardState !== undefined) {
      await writeFileAtomic(this.fs, this.dir, this.file(HARD_STATE_FILE), encodeHardState(hardState));
      this.hardState = hardState;
    }
  }

  /** Keeps the first `keep` entries (ftruncate), appends `fresh` and fsyncs. */
  private async appendWal(keep: number, fresh: readonly Entry[]): Promise<void> {
    const wal = this.requireWal();
    if (keep < this.entries.length) {
      this.walBytes = this.offsets[keep] as number;
      await wal.truncate(this.walBytes);
      this.entries.length = keep;
      this.offsets.length = keep;
    }
    const records = fresh.map(encodeEntry);
    await writeFully(wal, records, this.walBytes);
    await wal.sync();
    for (const [i, record] of records.entries()) {
      this.entries.push(fresh[i] as Entry);
      this.offsets.push(this.walBytes);
      this.walBytes += record.length;
    }
  }

  /** Replaces the WAL atomically with exactly `entries`. */
  private async rewriteWal(entries: readonly Entry[]): Promise<void> {
    const records = entries.map(encodeEntry);
    await writeFileAtomic(this.fs, this.dir, this.file(WAL_FILE), Buffer.concat(records));
    const previous = this.wal;
    this.wal = await this.fs.open(this.file(WAL_FILE), 'readWriteCreate');
    await previous?.close();
    this.entries = [...entries];
    this.offsets = [];
    this.walBytes = 0;
    for (const record of records) {
      this.offsets.push(this.walBytes);
      this.walBytes += record.length;
    }
  }

  private requireWal(): StorageFile {
    if (this.wal === null) throw new Error('raft storage is not open');
    return this.wal;
  }
}

interface WalPlan {
  readonly base: readonly Entry[];
  readonly keep: number;
  readonly fresh: readonly Entry[];
}

/** Raft §7: the entries after the snapshot survive only when the log holds the snapshot's own entry. */
function keptAfterSnapshot(entries: readonly Entry[], snapshot: Snapshot | null): Entry[] {
  if (snapshot === null) return [...entries];
  const first = entries[0];
  if (first === undefined) return [];
  if (first.index === snapshot.index + 1) return [...entries];
  const own = entries[snapshot.index - first.index];
  return own !== undefined && own.index === snapshot.index && own.term === snapshot.term ? entries.slice(snapshot.index - first.index + 1) : [];
}
