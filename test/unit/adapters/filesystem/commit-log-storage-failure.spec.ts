/**
 * A full disk (ENOSPC) or a failed sync under the filesystem commit log (docs/storage.md "Storage
 * failures"; docs/reliability.md "Scenarios", scenario 25): the log refuses appends at once while failed, keeps
 * serving what is durable, and recovers by itself once the disk takes writes again, continuing right
 * after its durable offset with nothing unacknowledged served. Faults come from the simulated disk of
 * test/support/power-loss (seeded), time from jest's fake timers (the back-off is 1 s doubling to 8 s).
 */
import { Logger } from '../../../../src/application/ports/logger.port';
import { StorageIoError } from '../../../../src/application/ports/partition-log.errors';
import { NewRecord, PartitionLog, PartitionLogOptions, SyncPolicy } from '../../../../src/application/ports/partition-log.port';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { decodeMessageSet } from '../../../../src/adapters/codec/message-set';
import { seededPrng } from '../../../../src/domain/shared/prng';
import { PowerLossFileSystem } from '../../../support/power-loss/power-loss-file-system';
import { contractOptions } from '../../../contract/partition-log-contract-support';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const ref = { stream: 'full', partition: 0 };
const record = (value: string): NewRecord => ({ key: null, value: Buffer.from(value), headers: null, subject: 's', reply: '' });
const options = (syncPolicy: SyncPolicy = 'always', more: Partial<PartitionLogOptions> = {}): PartitionLogOptions =>
  contractOptions({ syncPolicy, syncIntervalMs: 100, ...more });

async function values(log: PartitionLog, maxOffset = log.newestOffset): Promise<string[]> {
  const out: string[] = [];
  for (let next = Math.max(log.oldestOffset, 0); next <= maxOffset; ) {
    const batch = await log.read(next, maxOffset, 1 << 20);
    if (batch === null) break;
    out.push(...decodeMessageSet(batch.bytes).map((e) => e.value!.toString()));
    next = batch.lastOffset + 1;
  }
  return out;
}

/** Lets every pending microtask (the simulated disk's I/O) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

describe('FilesystemPartitionLog storage failures', () => {
  let disk: PowerLossFileSystem;
  let ioErrors: StorageIoError[];
  const store = () => new FilesystemPartitionLogStore({ dataDir: '/data', logger: silent, fs: disk.mount(), onIoError: (e) => ioErrors.push(e) });

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    ioErrors = [];
  });
  afterEach(() => jest.useRealTimers());

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('refuses appends while the disk is full and recovers by itself once it has room (seed %i)', async (seed) => {
    const prng = seededPrng(seed);
    disk = new PowerLossFileSystem({ seed });
    const log = await store().open(ref, options('always', { segmentMaxBytes: 200 + prng.nextInt(2000) }));
    const acked: string[] = [];
    const append = (value: string) => {
      const pending = log.append([record(value)], 1n, 1);
      pending.durable.then(
        () => {
          acked.push(value);
          if (pending.lastOffset > log.highWatermark) log.setHighWatermark(pending.lastOffset);
        },
        () => undefined,
      );
      return pending;
    };
    for (let i = 0; i < 5 + prng.nextInt(20); i++) await append(`before-${i}-${'x'.repeat(prng.nextInt(300))}`).durable;
    disk.capacityBytes = disk.usedBytes() + prng.nextInt(400); // a little room: some appends may still fit

    const attempts = [];
    let failed: unknown = null;
    for (let i = 0; failed === null; i++) {
      const pending = append(`during-${i}-${'y'.repeat(50 + prng.nextInt(200))}`);
      attempts.push(pending);
      await pending.durable.catch((e: unknown) => (failed = e));
    }
    expect(failed).toBeInstanceOf(StorageIoError);
    expect(failed).toMatchObject({ code: 'ENOSPC', retriable: true });
    expect(log.storageFailure).toBe(failed);
    expect(ioErrors.map((e) => e.code)).toEqual(['ENOSPC']);
    const durable = log.durableOffset;
    expect(() => log.append([record('refused')], 1n, 1)).toThrow(StorageIoError);
    await expect(log.truncateFrom(0)).rejects.toBeInstanceOf(StorageIoError);
    expect(await values(log, log.highWatermark)).toEqual(acked); // committed data is still served

    // Still full: the attempts after 1 s and 2 s fail (the probe write does not fit) and back off.
    await jest.advanceTimersByTimeAsync(3000);
    await settle();
    expect(log.storageFailure).not.toBeNull();
    expect(ioErrors.length).toBeGreaterThanOrEqual(3);

    disk.capacityBytes = Number.POSITIVE_INFINITY;
    await jest.advanceTimersByTimeAsync(8000); // at most the longest back-off
    await settle();
    expect(log.storageFailure).toBeNull();
    expect(log.newestOffset).toBe(durable); // what was not durable was dropped
    const next = log.append([record('after')], 2n, 1);
    expect(next.firstOffset).toBe(durable + 1);
    await next.durable;
    expect(await values(log)).toEqual([...acked, 'after']);

    await log.close();
    const reopened = await store().open(ref, options());
    expect(await values(reopened)).toEqual([...acked, 'after']); // on disk too: no partial record left
    await reopened.close();
  });

  it('recovers from a failed fsync under "interval" and from a roll whose new segment could not be created', async () => {
    disk = new PowerLossFileSystem({ seed: 11 });
    const log = await store().open(ref, options('interval', { segmentMaxBytes: 120 }));
    await log.append([record('a')], 1n, 1).durable;
    disk.failWhen((op) => op.kind === 'sync', 'EIO');
    await jest.advanceTimersByTimeAsync(100); // the interval sync runs and fails
    await settle();
    expect(log.storageFailure).toMatchObject({ code: 'EIO' });
    disk.clearFaults();
    await jest.advanceTimersByTimeAsync(1000);
    await settle();
    expect(log.storageFailure).toBeNull();

    // The next roll cannot create its segment: the appends that needed it are dropped, then resume.
    for (let i = 0; i < 3; i++) await log.append([record(`b${i}-${'z'.repeat(60)}`)], 1n, 1).durable.catch(() => undefined);
    disk.failWhen((op) => op.kind === 'open' && op.path.endsWith('.log') && disk.peek(op.path) === null, 'ENOSPC');
    const roll = log.append([record(`c-${'z'.repeat(100)}`)], 1n, 1);
    await expect(roll.durable).rejects.toMatchObject({ code: 'ENOSPC' });
    disk.clearFaults();
    await jest.advanceTimersByTimeAsync(1000);
    await settle();
    expect(log.storageFailure).toBeNull();
    const after = log.append([record('d')], 1n, 1);
    expect(after.firstOffset).toBe(roll.firstOffset);
    await after.durable;
    expect((await values(log)).slice(-1)).toEqual(['d']);
    await log.close();
  });

  it('stops trying to recover when closed', async () => {
    disk = new PowerLossFileSystem({ seed: 12 });
    const log = await store().open(ref, options());
    disk.capacityBytes = disk.usedBytes();
    await expect(log.append([record('x')], 1n, 1).durable).rejects.toMatchObject({ code: 'ENOSPC' });
    await log.close();
    const errors = ioErrors.length;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(ioErrors.length).toBe(errors);
    expect(jest.getTimerCount()).toBe(0);
  });
});
