/**
 * Descriptors (docs/storage.md "Open files"): each partition used to hold its `.log` and `.index` open (sealed segments
 * their `.log` too), so descriptors grew with the number of partitions until the process ran out
 * (EMFILE). The store now opens files on demand through a bounded cache (docs/storage.md "Open
 * files"): however many idle partitions, at most the budget stays open.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../../src/application/ports/logger.port';
import { NewRecord, PartitionLog, PartitionLogOptions } from '../../../../src/application/ports/partition-log.port';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { openDescriptorsUnder } from '../../../support/open-descriptors';
import { waitFor } from '../../../support/wait-for';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const PARTITIONS = 2000;
const BUDGET = 256;
/** Partitions that append (every tenth): enough to reopen files through the budget, few enough fsyncs for a unit test. */
const busy = (i: number): boolean => i % 10 === 0;
const options: PartitionLogOptions = {
  segmentMaxBytes: 200, // a few records per segment: partitions get sealed segments too
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy: 'always',
  syncIntervalMs: 1000,
};
const record = (value: string): NewRecord => ({ key: null, value: Buffer.from(value), headers: null, subject: 's', reply: '' });

/** Runs `task` for 0..n-1, 32 at a time (as the partition supervisor opens a stream's partitions). */
async function each(n: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < n) await task(next++);
  }));
}

/**
 * Once nothing runs, at most the budget stays open. Evicted handles close through libuv's thread
 * pool, so the last of them may still be closing when the operations are done: poll briefly.
 */
async function expectAtMostBudgetOpen(dir: string): Promise<void> {
  await waitFor(() => openDescriptorsUnder(dir).length <= BUDGET, 1000, `at most ${BUDGET} open descriptors`, 10);
}

describe('partition log descriptors with many idle partitions', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lbts-open-files-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function openAll(store: FilesystemPartitionLogStore): Promise<PartitionLog[]> {
    const logs: PartitionLog[] = new Array(PARTITIONS);
    await each(PARTITIONS, async (i) => {
      logs[i] = await store.open({ stream: 'many', partition: i }, options);
    });
    return logs;
  }

  it(`holds at most ${BUDGET} descriptors for ${PARTITIONS} partitions, created or reopened, and every log still works`, async () => {
    expect(openDescriptorsUnder(dataDir)).toHaveLength(0);
    let store = new FilesystemPartitionLogStore({ dataDir, logger: silent, openFilesMax: BUDGET });
    let logs = await openAll(store);
    await expectAtMostBudgetOpen(dataDir);

    // Partitions append (two segments each) and read back: files are reopened as needed.
    await each(PARTITIONS, async (i) => {
      if (!busy(i)) return;
      const log = logs[i]!;
      log.beginLeaderEpoch(1);
      for (let n = 0; n < 2; n++) {
        const pending = log.append([record(`p${i}-${n}-a`), record(`p${i}-${n}-b`), record(`p${i}-${n}-c`)], BigInt(n + 1), 1);
        await pending.durable;
        log.setHighWatermark(pending.lastOffset);
      }
    });
    await expectAtMostBudgetOpen(dataDir);
    for (const i of [0, 770, PARTITIONS - 10]) {
      const batch = await logs[i]!.read(0, 5, 1 << 20);
      expect(batch?.count).toBeGreaterThan(0);
    }
    for (const log of logs) await log.close();
    expect(openDescriptorsUnder(dataDir)).toHaveLength(0);

    // A restart: recovery opens every segment of every partition, through the same budget.
    store = new FilesystemPartitionLogStore({ dataDir, logger: silent, openFilesMax: BUDGET });
    logs = await openAll(store);
    await expectAtMostBudgetOpen(dataDir);
    expect(logs.every((log, i) => log.newestOffset === (busy(i) ? 5 : -1) && log.highWatermark === (busy(i) ? 5 : -1))).toBe(true);
    const last = await logs[PARTITIONS - 10]!.read(0, 5, 1 << 20);
    expect(last?.count).toBeGreaterThan(0);
    for (const log of logs) await log.close();
    expect(openDescriptorsUnder(dataDir)).toHaveLength(0);
  });
});
