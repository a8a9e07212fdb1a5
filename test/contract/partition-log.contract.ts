/**
 * The published contract of `PartitionLog` / `PartitionLogStore` (src/application/ports/
 * partition-log.port.ts). Every adapter runs it from a runner of its own:
 *
 *   describePartitionLogContract('my-adapter', async () => {
 *     const store = new MyPartitionLogStore(...);
 *     return { store, reopen: async () => new MyPartitionLogStore(...same data...), cleanup: async () => {...} };
 *   });
 *
 * `makeStore` is called once per test and must return a fresh, empty store. `reopen` (optional)
 * returns a store over the same data, as after a restart; tests close their logs before calling it.
 * A runner that can make the disk full passes `{ storageFaults: true }` and returns
 * `storageFaults` in the harness: the storage-failure section then runs too.
 * Numbers cited as "Go <Test>" are the behaviours pinned by Liftbridge's tests (`server/commitlog/commitlog_test.go`,
 * `delete_cleaner_test.go`).
 */
import { AssertionError } from '../../src/domain/shared/assert';
import { LogClosedError, LogReadonlyError } from '../../src/application/ports/partition-log.errors';
import { PartitionLog, PartitionLogOptions } from '../../src/application/ports/partition-log.port';
import { PartitionRef } from '../../src/domain/shared/ids';
import {
  aRecord,
  appendDurably,
  ContractContext,
  contractOptions,
  expectBatchConsistent,
  MakePartitionLogStore,
  offsets,
  PartitionLogContractHarness,
  readAll,
  utf8,
  values,
} from './partition-log-contract-support';
import { describeReplicationContract, describeRetentionContract } from './partition-log-sections.contract';
import { describeStorageFailureContract } from './partition-log-storage-failure.contract';

export * from './partition-log-contract-support';

export function describePartitionLogContract(name: string, makeStore: MakePartitionLogStore, capabilities: { storageFaults?: boolean } = {}): void {
  describe(`PartitionLog contract: ${name}`, () => {
    let harness: PartitionLogContractHarness;
    let ref: PartitionRef;
    const open = (options: Partial<PartitionLogOptions> = {}, store = harness.store) => store.open(ref, contractOptions(options));

    /** Appends one record per call (each its own batch), values v0..v{n-1}. */
    async function appendSingles(log: PartitionLog, n: number, epochOf = (_i: number) => 1, tsOf = (i: number) => BigInt(i)) {
      for (let i = 0; i < n; i++) await appendDurably(log, [aRecord(`v${i}`)], tsOf(i), epochOf(i));
    }

    beforeEach(async () => {
      harness = await makeStore();
      ref = { stream: 'orders', partition: 0 };
    });
    const context: ContractContext = {
      get harness() {
        return harness;
      },
      get ref() {
        return ref;
      },
      open: (options, store) => open(options, store),
      appendSingles: (log, n, epochOf, tsOf) => appendSingles(log, n, epochOf, tsOf),
    };
    afterEach(async () => {
      await harness.cleanup();
    });

    describe('positions', () => {
      it('reports an empty log (Go TestOffsets, TestEarliestOffsetAfterTimestampEmptyLog)', async () => {
        const log = await open();
        expect([log.oldestOffset, log.newestOffset, log.durableOffset, log.highWatermark]).toEqual([-1, -1, -1, -1]);
        expect(log.lastLeaderEpoch).toBe(0);
        expect(log.isReadonly).toBe(false);
        expect(log.closedReason).toBeNull();
        expect(log.storageFailure).toBeNull();
        expect(await log.read(0, 100, 1 << 20)).toBeNull();
        expect(log.earliestOffsetAtOrAfter(100n)).toBe(0);
        expect(log.latestOffsetAtOrBefore(100n)).toBeNull();
        expect(log.endOffsetForLeaderEpoch(0)).toBe(0);
        await log.close();
      });

      it('assigns offsets synchronously and makes them durable when the promise settles', async () => {
        const log = await open({ segmentMaxBytes: 20 });
        const first = log.append([aRecord('a'), aRecord('b'), aRecord('c')], 1n, 1);
        const second = log.append([aRecord('d'), aRecord('e')], 2n, 1);
        expect([first.firstOffset, first.lastOffset, second.firstOffset, second.lastOffset]).toEqual([0, 2, 3, 4]);
        expect(log.newestOffset).toBe(4);
        expect(log.oldestOffset).toBe(0);
        await Promise.all([first.durable, second.durable]);
        expect(log.durableOffset).toBe(4);
        expect(values(await readAll(log))).toEqual(['a', 'b', 'c', 'd', 'e']);
        await log.close();
      });
    });

    describe('append and read', () => {
      it('round-trips keys, values, nulls, empties, headers, timestamps and epochs (Go TestNewCommitLog)', async () => {
        const log = await open();
        const foo = { foo: utf8('bar') };
        const records = [
          aRecord('one', { key: utf8('k1'), headers: foo }),
          aRecord('two', { key: new Uint8Array(0), headers: foo }),
          aRecord('three', { headers: { ...foo, empty: new Uint8Array(0) } }),
          aRecord('', { key: utf8('k4'), headers: foo, subject: 'orders.eu', reply: '_INBOX.1' }),
          aRecord(null, { headers: foo }),
        ];
        const pending = await appendDurably(log, records, 1_700_000_000_123_456_789n, 42);
        expect([pending.firstOffset, pending.lastOffset]).toEqual([0, 4]);
        const entries = await readAll(log);
        expect(offsets(entries)).toEqual([0, 1, 2, 3, 4]);
        expect(entries.every((e) => e.timestampNs === 1_700_000_000_123_456_789n && e.leaderEpoch === 42)).toBe(true);
        expect(entries.map((e) => e.key?.toString() ?? null)).toEqual(['k1', '', null, 'k4', null]);
        expect(values(entries)).toEqual(['one', 'two', 'three', '', null]);
        expect(entries[2]!.headers['empty']).toEqual(Buffer.alloc(0));
        for (const e of entries) expect(e.headers['foo']!.toString()).toBe('bar');
        expect(entries[3]!.headers['subject']!.toString()).toBe('orders.eu');
        expect(entries[3]!.headers['reply']!.toString()).toBe('_INBOX.1');
        expect(entries[0]!.headers['reply']!.toString()).toBe('');
        await log.close();
      });

      it('replaces user headers named subject and reply with the server headers', async () => {
        const log = await open();
        const headers = { subject: utf8('forged'), reply: utf8('forged'), x: utf8('1') };
        await appendDurably(log, [aRecord('v', { headers, subject: 'real.subject', reply: 'real.reply' })], 5n, 1);
        const [entry] = await readAll(log);
        expect(Object.keys(entry!.headers).sort()).toEqual(['reply', 'subject', 'x']);
        expect(entry!.headers['subject']!.toString()).toBe('real.subject');
        expect(entry!.headers['reply']!.toString()).toBe('real.reply');
        await log.close();
      });

      it('clamps reads to [oldest, maxOffset] and honours maxBytes, returning at least one entry', async () => {
        const log = await open();
        await appendDurably(log, ['a', 'b', 'c', 'd', 'e'].map((v) => aRecord(v)), 1n, 1);
        const one = (await log.read(0, 0, 1 << 20))!;
        expect([one.firstOffset, one.lastOffset, one.count]).toEqual([0, 0, 1]);
        const entryBytes = one.bytes.length;
        const tiny = (await log.read(1, 4, 1))!;
        expect([tiny.firstOffset, tiny.count]).toEqual([1, 1]);
        const two = (await log.read(1, 4, 2 * entryBytes + 1))!;
        expect([two.firstOffset, two.lastOffset, two.count]).toEqual([1, 2, 2]);
        expect(two.bytes.length).toBe(2 * entryBytes);
        const capped = (await log.read(2, 3, 1 << 20))!;
        expect([capped.firstOffset, capped.lastOffset]).toEqual([2, 3]);
        expect(await log.read(5, 100, 1 << 20)).toBeNull();
        expect(await log.read(3, 2, 1 << 20)).toBeNull();
        expect(await log.read(4, -1, 1 << 20)).toBeNull();
        expectBatchConsistent(two);
        await log.close();
      });

      it('reads across segments and clamps a start below the oldest retained offset', async () => {
        const log = await open({ segmentMaxBytes: 1, retentionMaxMessages: 3 });
        await appendSingles(log, 8);
        log.setHighWatermark(7);
        await log.enforceRetention(100n);
        expect(log.oldestOffset).toBe(5);
        const batch = (await log.read(0, 7, 1 << 20))!;
        expect(batch.firstOffset).toBe(5);
        expect(values(await readAll(log, 0))).toEqual(['v5', 'v6', 'v7']);
        await log.close();
      });
    });

    describe('timestamp lookups (docs/storage.md "Segments, retention, epochs, truncation")', () => {
      async function tenByTens(log: PartitionLog) {
        await appendSingles(log, 10, () => 1, (i) => BigInt(i * 10));
      }

      it('finds the earliest offset at or after a timestamp (Go TestEarliestOffsetAfterTimestamp)', async () => {
        const log = await open({ segmentMaxBytes: 100 });
        await tenByTens(log);
        const cases: [bigint, number][] = [[-1n, 0], [20n, 2], [30n, 3], [90n, 9], [500n, 10], [25n, 3]];
        for (const [t, want] of cases) expect([t, log.earliestOffsetAtOrAfter(t)]).toEqual([t, want]);
        await log.close();
      });

      it('finds the latest offset at or before a timestamp (Go TestLatestOffsetBeforeTimestamp)', async () => {
        const log = await open({ segmentMaxBytes: 100 });
        await tenByTens(log);
        expect(log.latestOffsetAtOrBefore(-1n)).toBeNull();
        const cases: [bigint, number][] = [[5n, 0], [20n, 2], [30n, 3], [90n, 9], [500n, 9], [25n, 2]];
        for (const [t, want] of cases) expect([t, log.latestOffsetAtOrBefore(t)]).toEqual([t, want]);
        await log.close();
      });
    });

    describe('high watermark and waiters', () => {
      it('only raises the high watermark and refuses to pass the durable offset', async () => {
        const log = await open();
        await appendDurably(log, [aRecord('a'), aRecord('b'), aRecord('c')], 1n, 1);
        log.setHighWatermark(1);
        log.setHighWatermark(0);
        expect(log.highWatermark).toBe(1);
        expect(() => log.setHighWatermark(3)).toThrow(AssertionError);
        log.setHighWatermark(2);
        expect(log.highWatermark).toBe(2);
        await log.close();
      });

      it('wakes waiters when the high watermark passes their offset, and not before', async () => {
        const log = await open();
        await appendDurably(log, [aRecord('a'), aRecord('b'), aRecord('c')], 1n, 1);
        const woken: string[] = [];
        const signal = new AbortController().signal;
        const w1 = log.waitForCommit(0, signal).then(() => woken.push('after0'));
        const w2 = log.waitForCommit(1, signal).then(() => woken.push('after1'));
        log.setHighWatermark(0);
        await Promise.resolve();
        log.setHighWatermark(1);
        await w1;
        expect(woken).toEqual(['after0']);
        log.setHighWatermark(2);
        await w2;
        expect(woken).toEqual(['after0', 'after1']);
        await log.waitForCommit(1, signal); // already past: resolves at once
        await log.close();
      });

      it('resolves waiters on abort, on a read-only change and on close', async () => {
        const log = await open();
        const controller = new AbortController();
        const aborted = log.waitForCommit(-1, controller.signal);
        controller.abort();
        await aborted;
        await log.waitForCommit(-1, controller.signal); // already aborted
        const forReadonly = log.waitForCommit(-1, new AbortController().signal);
        log.setReadonly(true);
        await forReadonly;
        const forClose = log.waitForCommit(-1, new AbortController().signal);
        await log.close();
        await forClose;
        await log.waitForCommit(-1, new AbortController().signal); // closed: resolves at once
      });
    });

    describe('read-only', () => {
      it('refuses leader appends but accepts replicated ones (Go TestSetReadonlyAppend)', async () => {
        const source = await harness.store.open({ stream: 'source', partition: 0 }, contractOptions());
        await appendDurably(source, [aRecord('r')], 1n, 3);
        const batch = (await source.read(0, 0, 1 << 20))!;
        const log = await open();
        log.setReadonly(true);
        expect(log.isReadonly).toBe(true);
        expect(() => log.append([aRecord('x')], 1n, 1)).toThrow(LogReadonlyError);
        expect(log.newestOffset).toBe(-1);
        await log.appendReplicated(batch);
        expect(log.newestOffset).toBe(0);
        log.setReadonly(false);
        await appendDurably(log, [aRecord('y')], 2n, 3);
        expect(values(await readAll(log))).toEqual(['r', 'y']);
        await Promise.all([log.close(), source.close()]);
      });
    });

    describe('leader epochs (KIP-101 end offsets)', () => {
      const epochOf = (i: number) => (i < 5 ? 1 : i < 10 ? 2 : 3);

      it('learns epochs from appends and answers end offsets', async () => {
        const log = await open({ segmentMaxBytes: 6 });
        await appendSingles(log, 15, epochOf);
        expect(log.lastLeaderEpoch).toBe(3);
        expect([0, 1, 2, 3, 4].map((e) => log.endOffsetForLeaderEpoch(e))).toEqual([0, 5, 10, 15, 15]);
        log.beginLeaderEpoch(2); // older: ignored
        expect(log.lastLeaderEpoch).toBe(3);
        log.beginLeaderEpoch(7);
        expect(log.lastLeaderEpoch).toBe(7);
        expect(log.endOffsetForLeaderEpoch(3)).toBe(15);
        await appendDurably(log, [aRecord('x')], 99n, 7);
        expect(log.endOffsetForLeaderEpoch(7)).toBe(16);
        expect(log.endOffsetForLeaderEpoch(6)).toBe(15);
        await log.close();
      });

      it('truncates records and the epochs that start there (Go TestTruncate)', async () => {
        const log = await open({ segmentMaxBytes: 6 });
        await appendSingles(log, 15, epochOf);
        log.setHighWatermark(12);
        await log.truncateFrom(7);
        expect(log.newestOffset).toBe(6);
        expect(log.highWatermark).toBe(6);
        expect(log.lastLeaderEpoch).toBe(2);
        expect([0, 1, 2].map((e) => log.endOffsetForLeaderEpoch(e))).toEqual([0, 5, 7]);
        expect(await log.read(7, 100, 1 << 20)).toBeNull();
        const next = await appendDurably(log, [aRecord('new')], 100n, 4);
        expect(next.firstOffset).toBe(7);
        expect(log.endOffsetForLeaderEpoch(2)).toBe(7);
        expect(values(await readAll(log))).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'new']);
        await log.close();
      });

      it('truncates inside one segment, at a segment base and everything', async () => {
        const log = await open({ segmentMaxBytes: 200 });
        await appendSingles(log, 12);
        await log.truncateFrom(9);
        expect(log.newestOffset).toBe(8);
        await log.truncateFrom(20); // past the end: no-op
        expect(log.newestOffset).toBe(8);
        await appendDurably(log, [aRecord('n9')], 50n, 1);
        expect(values(await readAll(log, 7))).toEqual(['v7', 'v8', 'n9']);
        await log.truncateFrom(0);
        expect([log.oldestOffset, log.newestOffset]).toEqual([-1, -1]);
        expect(log.lastLeaderEpoch).toBe(0);
        await appendDurably(log, [aRecord('again')], 60n, 2);
        expect(values(await readAll(log))).toEqual(['again']);
        await log.close();
      });
    });

    describeRetentionContract(context);
    describeReplicationContract(context);
    if (capabilities.storageFaults === true) describeStorageFailureContract(context);

    describe('lifecycle', () => {
      it('refuses every call after close, and close is idempotent', async () => {
        const log = await open();
        await appendDurably(log, [aRecord('a')], 1n, 1);
        await log.close();
        await log.close();
        expect(log.closedReason).toBe('closed');
        expect(() => log.append([aRecord('b')], 2n, 1)).toThrow(LogClosedError);
        await expect(log.read(0, 0, 100)).rejects.toBeInstanceOf(LogClosedError);
        await expect(log.truncateFrom(0)).rejects.toBeInstanceOf(LogClosedError);
        await expect(log.enforceRetention(0n)).rejects.toBeInstanceOf(LogClosedError);
        expect(() => log.setHighWatermark(0)).toThrow(LogClosedError);
      });

      it('refuses to open a partition twice', async () => {
        const log = await open();
        await expect(open()).rejects.toThrow();
        await log.close();
        const again = await open();
        await again.close();
      });

      it('deletes a partition, closing it with reason "deleted" and waking its waiters (Go TestDelete)', async () => {
        const log = await open();
        await appendDurably(log, [aRecord('a')], 1n, 1);
        const other = await harness.store.open({ stream: 'orders', partition: 1 }, contractOptions());
        const waiting = log.waitForCommit(5, new AbortController().signal);
        await harness.store.delete(ref);
        await waiting;
        expect(log.closedReason).toBe('deleted');
        await expect(log.read(0, 0, 100)).rejects.toEqual(new LogClosedError('deleted'));
        expect(await harness.store.list()).toEqual([{ stream: 'orders', partition: 1 }]);
        const fresh = await open();
        expect(fresh.newestOffset).toBe(-1);
        await Promise.all([fresh.close(), other.close()]);
      });

      it('deletes every partition of one stream only', async () => {
        const a0 = await open();
        const a1 = await harness.store.open({ stream: 'orders', partition: 1 }, contractOptions());
        const b0 = await harness.store.open({ stream: 'orders-archive', partition: 0 }, contractOptions());
        await appendDurably(a1, [aRecord('x')], 1n, 1);
        await harness.store.deleteStream('orders');
        expect([a0.closedReason, a1.closedReason, b0.closedReason]).toEqual(['deleted', 'deleted', null]);
        expect(await harness.store.list()).toEqual([{ stream: 'orders-archive', partition: 0 }]);
        await b0.close();
      });

      it('lists the partitions that have data', async () => {
        const logs = await Promise.all([
          open(),
          harness.store.open({ stream: 'orders', partition: 2 }, contractOptions()),
          harness.store.open({ stream: 'users', partition: 0 }, contractOptions()),
        ]);
        const key = (r: PartitionRef) => `${r.stream}/${r.partition}`;
        expect((await harness.store.list()).map(key).sort()).toEqual(['orders/0', 'orders/2', 'users/0']);
        await Promise.all(logs.map((l) => l.close()));
      });
    });

    describe('reopen', () => {
      it.each([6, 60, 600, 6000])('keeps every record with %i-byte segments (Go TestCommitLogRecover)', async (segmentMaxBytes) => {
        if (harness.reopen === undefined) return;
        const log = await open({ segmentMaxBytes });
        await appendSingles(log, 10);
        await log.close();
        const reopened = await open({ segmentMaxBytes }, await harness.reopen());
        expect([reopened.oldestOffset, reopened.newestOffset, reopened.durableOffset]).toEqual([0, 9, 9]);
        const entries = await readAll(reopened);
        expect(offsets(entries)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(values(entries)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
        const next = await appendDurably(reopened, [aRecord('v10')], 10n, 1);
        expect(next.firstOffset).toBe(10);
        await reopened.close();
      });

      it('keeps the high watermark, epochs and retention state (Go TestCommitLogRecoverHW)', async () => {
        if (harness.reopen === undefined) return;
        const options = { segmentMaxBytes: 6, retentionMaxMessages: 4 };
        const log = await open(options);
        await appendSingles(log, 9, (i) => (i < 3 ? 1 : i < 6 ? 5 : 9));
        log.setHighWatermark(7);
        await log.enforceRetention(100n);
        await log.close();
        const reopened = await open(options, await harness.reopen());
        expect([reopened.oldestOffset, reopened.newestOffset, reopened.highWatermark]).toEqual([5, 8, 7]);
        expect(reopened.lastLeaderEpoch).toBe(9);
        expect([1, 5, 9].map((e) => reopened.endOffsetForLeaderEpoch(e))).toEqual([5, 6, 9]); // clearEarliest(5) moved epoch 5 to start at 5
        expect(values(await readAll(reopened))).toEqual(['v5', 'v6', 'v7', 'v8']);
        await reopened.close();
      });

      it('keeps a truncation across a reopen', async () => {
        if (harness.reopen === undefined) return;
        const log = await open({ segmentMaxBytes: 100 });
        await appendSingles(log, 10, (i) => (i < 5 ? 1 : 2));
        await log.truncateFrom(4);
        await log.close();
        const reopened = await open({ segmentMaxBytes: 100 }, await harness.reopen());
        expect(reopened.newestOffset).toBe(3);
        expect(reopened.lastLeaderEpoch).toBe(1);
        expect(values(await readAll(reopened))).toEqual(['v0', 'v1', 'v2', 'v3']);
        await reopened.close();
      });
    });
  });
}
