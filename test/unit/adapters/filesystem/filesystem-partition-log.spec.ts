/**
 * Durability behaviour of the filesystem log that the contract cannot see: when `durable` settles
 * under each sync policy, group commit, the failed state, the on-disk layout and checkpoints.
 * fsync and write are observed (and held back) by wrapping FileHandle methods, never by sleeping.
 * Recovery from a failed write: commit-log-storage-failure.spec.ts.
 */
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { Logger } from '../../../../src/application/ports/logger.port';
import { LogClosedError, StorageIoError } from '../../../../src/application/ports/partition-log.errors';
import { NewRecord, PartitionLog, PartitionLogOptions, SyncPolicy } from '../../../../src/application/ports/partition-log.port';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';

const ref = { stream: 'durability', partition: 3 };
const record = (v: string): NewRecord => ({ key: null, value: Buffer.from(v), headers: null, subject: 's', reply: '' });
const options = (syncPolicy: SyncPolicy, more: Partial<PartitionLogOptions> = {}): PartitionLogOptions => ({
  segmentMaxBytes: 1 << 20,
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy,
  syncIntervalMs: 20,
  ...more,
});

type Lines = { level: string; msg: string }[];
const capture = (lines: Lines): Logger => {
  const at = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
};

/** A promise that stays pending until `open()`; lets a test hold fsync or write back. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Settles as soon as the promise settles; `false` if it is still pending after the I/O queue drained once. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** Resolves once `file` holds `want`: watches the directory (started before the first check). */
function fileContent(file: string, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () =>
      fsp.readFile(file, 'utf8').then(
        (text) => {
          if (text !== want) return;
          watcher.close();
          resolve();
        },
        (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : reject(e)),
      );
    const watcher = watch(dirname(file), () => void check());
    void check();
  });
}

describe('FilesystemPartitionLog durability', () => {
  let dataDir: string;
  let proto: { datasync: () => Promise<void>; writev: (...args: unknown[]) => Promise<unknown> };
  let lines: Lines;
  let store: FilesystemPartitionLogStore;
  const logs: PartitionLog[] = [];
  const open = async (o: PartitionLogOptions, extra: { highWatermarkCheckpointIntervalMs?: number } = {}) => {
    store = new FilesystemPartitionLogStore({ dataDir, logger: capture(lines), ...extra });
    const log = await store.open(ref, o);
    logs.push(log);
    return log;
  };

  beforeAll(async () => {
    const handle = await fsp.open(join(tmpdir(), `fh-proto-${process.pid}`), 'w');
    proto = Object.getPrototypeOf(handle);
    await handle.close();
    await fsp.rm(join(tmpdir(), `fh-proto-${process.pid}`));
  });
  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(join(tmpdir(), 'liftbridge-durability-'));
    lines = [];
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(logs.splice(0).map((l) => l.close()));
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  // Under "always" the data is written through an O_DSYNC handle: the write returns once the bytes
  // are on disk, so "written" and "fsynced" are one system call. Holding the write holds durability.
  it('settles "always" appends only after the durable write, and never serves data before it', async () => {
    const log = await open(options('always'));
    await log.append([record('warm-up')], 1n, 1).durable;
    const held = gate();
    const writing = gate();
    const original = proto.writev;
    jest.spyOn(proto, 'writev').mockImplementation(function (this: unknown, ...args: unknown[]) {
      writing.open();
      return held.opened.then(() => original.apply(this, args));
    });
    const pending = log.append([record('a'), record('b')], 1n, 1);
    expect(log.newestOffset).toBe(2);
    await writing.opened; // the durable write is in progress
    expect(await isSettled(pending.durable)).toBe(false);
    expect(log.durableOffset).toBe(0);
    expect(() => log.setHighWatermark(1)).toThrow(); // not durable: cannot be committed
    expect((await log.read(1, 2, 1 << 20))).toBeNull(); // not written: not readable
    held.open();
    await pending.durable;
    expect(log.durableOffset).toBe(2);
    expect((await log.read(1, 2, 1 << 20))?.count).toBe(2);
  });

  it('writes "always" data through an O_DSYNC handle instead of calling fdatasync per flush', async () => {
    const datasync = jest.spyOn(proto, 'datasync');
    const log = await open(options('always'));
    for (let i = 0; i < 5; i++) await log.append([record(`v${i}`)], 1n, 1).durable;
    expect(datasync).not.toHaveBeenCalled();
    // Linux shows each descriptor's open flags (octal) in /proc/self/fdinfo.
    const { constants } = await import('node:fs');
    const logPath = join(dataDir, 'streams', 'durability', '3', '00000000000000000000.log');
    const flags: number[] = [];
    for (const fd of await fsp.readdir('/proc/self/fd')) {
      const target = await fsp.readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target !== logPath) continue;
      const info = await fsp.readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
      flags.push(parseInt(/flags:\s+(\d+)/.exec(info)![1]!, 8));
    }
    expect(flags.some((f) => (f & constants.O_DSYNC) === constants.O_DSYNC)).toBe(true);
  });

  it('pipelines up to 4 durable writes, groups the rest, and completes them in order', async () => {
    const log = await open(options('always'));
    await log.append([record('warm-up')], 1n, 1).durable;
    const releases: (() => void)[] = [];
    const original = proto.writev;
    const writev = jest.spyOn(proto, 'writev').mockImplementation(function (this: unknown, ...args: unknown[]) {
      return new Promise<void>((resolve) => releases.push(resolve)).then(() => original.apply(this, args));
    });
    const appends = [];
    for (let i = 0; i < 100; i++) {
      appends.push(log.append([record(`r${i}`)], 3n, 1));
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve)); // let flushes start
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(releases).toHaveLength(4); // four writes in flight, everything else waits in one group
    // The last write in flight finishes first: nothing may be reported durable before the earlier ones.
    releases[3]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.durableOffset).toBe(0);
    for (const release of releases.slice(0, 3)) release();
    const settledOrder: number[] = [];
    const distinct = [...new Set(appends.map((p) => p.durable))];
    distinct.forEach((p, i) => void p.then(() => settledOrder.push(i)));
    while (releases.length < 5) await new Promise((resolve) => setImmediate(resolve));
    releases[4]!();
    await Promise.all(appends.map((p) => p.durable));
    expect(settledOrder).toEqual(distinct.map((_, i) => i)); // flushes complete in submission order
    expect(writev).toHaveBeenCalledTimes(5);
    expect(log.durableOffset).toBe(100);
  });

  it('fails when a durable write fails: pending and later appends are refused (until it recovers: commit-log-storage-failure.spec.ts)', async () => {
    const log = await open(options('always'));
    await log.append([record('ok')], 1n, 1).durable;
    jest.spyOn(proto, 'writev').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const failing = log.append([record('lost')], 2n, 1);
    const queued = log.append([record('queued')], 3n, 1);
    await expect(failing.durable).rejects.toBeInstanceOf(StorageIoError);
    await expect(queued.durable).rejects.toBeInstanceOf(StorageIoError);
    expect(log.durableOffset).toBe(0);
    expect(() => log.append([record('later')], 4n, 1)).toThrow(StorageIoError);
    await expect(log.truncateFrom(0)).rejects.toBeInstanceOf(StorageIoError);
    expect(log.storageFailure).toMatchObject({ code: 'EIO' });
    expect(lines.some((l) => l.level === 'error' && l.msg.includes('refusing appends until the storage recovers'))).toBe(true);
    await log.close();
    expect(() => log.append([record('closed')], 5n, 1)).toThrow(LogClosedError);
  });

  it('settles "never" appends after the write without fsync, and flushes on close', async () => {
    const log = await open(options('never'));
    const datasync = jest.spyOn(proto, 'datasync');
    await log.append([record('a')], 1n, 1).durable;
    expect(log.durableOffset).toBe(0);
    expect(datasync).not.toHaveBeenCalled();
    await log.close();
    expect(datasync).toHaveBeenCalled();
  });

  it('settles "interval" appends after the write and fsyncs within the interval', async () => {
    const log = await open(options('interval', { syncIntervalMs: 5 }));
    const synced = gate();
    const original = proto.datasync;
    const datasync = jest.spyOn(proto, 'datasync').mockImplementation(function (this: unknown) {
      return original.call(this).then(() => synced.open());
    });
    await log.append([record('a')], 1n, 1).durable;
    expect(log.durableOffset).toBe(0);
    expect(datasync).not.toHaveBeenCalled();
    await synced.opened;
    expect(datasync).toHaveBeenCalledTimes(1);
  });

  it('never reads what is not written yet', async () => {
    const log = await open(options('never'));
    const held = gate();
    const original = proto.writev;
    jest.spyOn(proto, 'writev').mockImplementation(function (this: unknown, ...args: unknown[]) {
      return held.opened.then(() => original.apply(this, args));
    });
    const pending = log.append([record('a')], 1n, 1);
    expect(log.newestOffset).toBe(0);
    expect(await log.read(0, 0, 1 << 20)).toBeNull();
    held.open();
    await pending.durable;
    expect((await log.read(0, 0, 1 << 20))?.count).toBe(1);
  });

  it("uses Liftbridge's layout and keeps the index exactly as long as its entries", async () => {
    const log = await open(options('always', { segmentMaxBytes: 100 }));
    for (let i = 0; i < 4; i++) await log.append([record(`v${i}`), record(`w${i}`)], BigInt(i), 1).durable;
    log.setHighWatermark(5);
    await log.close();
    const dir = join(dataDir, 'streams', 'durability', '3');
    const names = (await fsp.readdir(dir)).sort();
    expect(names).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000002.index',
      '00000000000000000002.log',
      '00000000000000000004.index',
      '00000000000000000004.log',
      '00000000000000000006.index',
      '00000000000000000006.log',
      'leader-epoch-checkpoint',
      'replication-offset-checkpoint',
    ]);
    for (const base of ['00000000000000000000', '00000000000000000006']) {
      expect((await fsp.stat(join(dir, `${base}.index`))).size).toBe(40);
    }
    expect(await fsp.readFile(join(dir, 'replication-offset-checkpoint'), 'utf8')).toBe('5');
    expect(await fsp.readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n1 0\n');
  });

  it('checkpoints a changed high watermark periodically while open, and a lowered one at truncation', async () => {
    const log = await open(options('never'), { highWatermarkCheckpointIntervalMs: 5 });
    const file = join(dataDir, 'streams', 'durability', '3', 'replication-offset-checkpoint');
    await log.append([record('a'), record('b'), record('c')], 1n, 1).durable;
    const written = fileContent(file, '2');
    log.setHighWatermark(2);
    await written;
    await log.truncateFrom(1);
    expect(log.highWatermark).toBe(0);
    expect(await fsp.readFile(file, 'utf8')).toBe('0');
  });

  it('removes the partition directory on delete and the stream directory on deleteStream', async () => {
    const log = await open(options('never'));
    await log.append([record('a')], 1n, 1).durable;
    await store.delete(ref);
    await expect(fsp.stat(join(dataDir, 'streams', 'durability', '3'))).rejects.toThrow();
    await store.open({ stream: 'durability', partition: 4 }, options('never'));
    await store.deleteStream('durability');
    await expect(fsp.stat(join(dataDir, 'streams', 'durability'))).rejects.toThrow();
    expect(await store.list()).toEqual([]);
  });
});
