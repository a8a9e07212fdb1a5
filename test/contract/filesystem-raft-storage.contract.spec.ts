import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/application/ports/logger.port';
import { RaftStorageCorruptedError } from '../../src/application/ports/raft-storage.port';
import {
  FilesystemRaftStorage,
  HARD_STATE_FILE,
  SNAPSHOT_FILE,
  WAL_FILE,
} from '../../src/adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { encodeEntry, encodeSnapshot } from '../../src/adapters/outbound/filesystem/raft/raft-records';
import { aSnapshot, describeRaftStorageContract, entriesOf } from './raft-storage.contract';
import { PowerLossFileSystem } from '../support/power-loss/power-loss-file-system';

/** A logger that records its warnings. */
function capturingLogger(warnings: string[] = []): Logger & { warnings: string[] } {
  const logger: Logger & { warnings: string[] } = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (_obj, msg) => void warnings.push(msg),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describeRaftStorageContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'liftbridge-raft-contract-'));
  const make = () => new FilesystemRaftStorage({ dir, logger: capturingLogger() });
  return { storage: make(), reopen: async () => make(), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// The same adapter on the simulated disk of the power-loss tests: the disk behaves like Node's for
// everything the contract checks (power cuts: test/unit/adapters/filesystem/raft-storage-power-loss.spec.ts).
describeRaftStorageContract('filesystem on the power-loss disk', async () => {
  const disk = new PowerLossFileSystem({ seed: 1 });
  const make = () => new FilesystemRaftStorage({ dir: '/data/raft', logger: capturingLogger(), fs: disk.mount() });
  return { storage: make(), reopen: async () => make(), cleanup: async () => undefined };
});

describe('FilesystemRaftStorage recovery', () => {
  let dir: string;
  let logger: ReturnType<typeof capturingLogger>;
  const open = () => new FilesystemRaftStorage({ dir, logger });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liftbridge-raft-recovery-'));
    logger = capturingLogger();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Saves entries 1..n (term 1) with commit 1 and closes. */
  async function seed(n: number, snapshot?: Parameters<FilesystemRaftStorage['save']>[2]): Promise<void> {
    const storage = open();
    await storage.load();
    await storage.save({ term: 1, vote: 'a', commit: 1 }, entriesOf(1, n, 1));
    if (snapshot !== undefined) await storage.save(undefined, [], snapshot);
    await storage.close();
  }

  it('cuts a torn WAL tail with a warning and appends after the cut', async () => {
    await seed(3);
    const record = encodeEntry(entriesOf(4, 4, 1)[0]!);
    await appendFile(join(dir, WAL_FILE), record.subarray(0, record.length - 3));
    let storage = open();
    const state = await storage.load();
    expect(state.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(logger.warnings).toEqual([expect.stringContaining('torn or corrupt tail')]);
    await storage.save(undefined, entriesOf(4, 5, 1));
    await storage.close();
    storage = open();
    expect((await storage.load()).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(logger.warnings).toHaveLength(1);
    await storage.close();
  });

  it('cuts a last record whose CRC does not match', async () => {
    await seed(3);
    const wal = join(dir, WAL_FILE);
    const bytes = await readFile(wal);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(wal, bytes);
    const storage = open();
    expect((await storage.load()).entries.map((e) => e.index)).toEqual([1, 2]);
    expect(logger.warnings).toHaveLength(1);
    await storage.close();
  });

  it('refuses to start when the cut lost committed entries', async () => {
    await seed(2);
    const storage = open();
    await storage.load();
    await storage.save({ term: 1, vote: 'a', commit: 2 }, []);
    await storage.close();
    await truncate(join(dir, WAL_FILE), 10);
    await expect(open().load()).rejects.toThrow(new RegExp(`${WAL_FILE}.*commits index 2 but the log ends at 0`));
  });

  it.each([
    ['flipped byte', (b: Buffer) => ((b[b.length - 2] ^= 0x01), b)],
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['empty', () => Buffer.alloc(0)],
    ['trailing garbage', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
  ])('throws naming the hard-state file when it is damaged (%s)', async (_what, damage) => {
    await seed(2);
    const file = join(dir, HARD_STATE_FILE);
    await writeFile(file, damage(await readFile(file)));
    const error = await open().load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RaftStorageCorruptedError);
    expect((error as RaftStorageCorruptedError).file).toBe(file);
    expect((error as Error).message).toContain(file);
  });

  it('throws naming the snapshot file when it is damaged', async () => {
    await seed(4, aSnapshot(2, 1, new Uint8Array(64).fill(9)));
    const file = join(dir, SNAPSHOT_FILE);
    const bytes = await readFile(file);
    bytes[40] ^= 0x10;
    await writeFile(file, bytes);
    await expect(open().load()).rejects.toThrow(new RegExp(`${SNAPSHOT_FILE} is corrupt: CRC mismatch`));
  });

  it('finishes a snapshot whose WAL rewrite a crash interrupted', async () => {
    await seed(5);
    await writeFile(join(dir, SNAPSHOT_FILE), encodeSnapshot(aSnapshot(3, 1)));
    let storage = open();
    const state = await storage.load();
    expect([state.snapshot?.index, state.entries.map((e) => e.index), state.appliedIndex]).toEqual([3, [4, 5], 3]);
    await storage.close();
    storage = open();
    expect((await storage.load()).entries.map((e) => e.index)).toEqual([4, 5]);
    await storage.close();
  });

  it('leaves no temp files behind and ignores stale ones', async () => {
    await seed(2, aSnapshot(1, 1));
    await writeFile(join(dir, `${HARD_STATE_FILE}.tmp`), 'half written');
    const storage = open();
    expect((await storage.load()).hardState).toEqual({ term: 1, vote: 'a', commit: 1 });
    await storage.close();
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual([HARD_STATE_FILE, WAL_FILE, SNAPSHOT_FILE].sort());
  });
});

describe('FilesystemRaftStorage on a full disk', () => {
  it('rejects a save with StorageIoError and takes the same save again once the disk has room', async () => {
    const disk = new PowerLossFileSystem({ seed: 2 });
    const storage = new FilesystemRaftStorage({ dir: '/data/raft', logger: capturingLogger(), fs: disk.mount() });
    await storage.load();
    await storage.save({ term: 1, vote: 'a', commit: 1 }, entriesOf(1, 2, 1));
    disk.capacityBytes = disk.usedBytes() + 10; // part of the next write fits: a torn record is left behind
    const save = () => storage.save({ term: 1, vote: 'a', commit: 3 }, entriesOf(3, 5, 1));
    await expect(save()).rejects.toMatchObject({ name: 'StorageIoError', code: 'ENOSPC', retriable: true });
    await expect(save()).rejects.toMatchObject({ code: 'ENOSPC' }); // still full
    disk.capacityBytes = Number.POSITIVE_INFINITY;
    await save();
    await storage.close();
    const reloaded = await new FilesystemRaftStorage({ dir: '/data/raft', logger: capturingLogger(), fs: disk.mount() }).load();
    expect(reloaded.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(reloaded.hardState.commit).toBe(3);
  });
});
