/**
 * Retention and replication sections of the partition-log contract (run from
 * partition-log.contract.ts; see its header for how adapters use it).
 */
import { OffsetOutOfRangeError, SegmentCorruptedError } from '../../src/application/ports/partition-log.errors';
import { aRecord, appendDurably, ContractContext, contractOptions, MS, readAll, values } from './partition-log-contract-support';

export function describeRetentionContract(context: ContractContext): void {
  describe('retention (docs/storage.md "Segments, retention, epochs, truncation")', () => {
    async function entryBytes(): Promise<number> {
      const probe = await context.harness.store.open({ stream: 'probe', partition: 0 }, contractOptions());
      await appendDurably(probe, [aRecord('v0')], 0n, 1);
      const size = (await probe.read(0, 0, 1 << 20))!.bytes.length;
      await probe.close();
      return size;
    }

    it('deletes the oldest segments beyond the byte limit (Go TestDeleteCleanerBytes)', async () => {
      const size = await entryBytes();
      const log = await context.open({ segmentMaxBytes: 1, retentionMaxBytes: 2 * size + 4 });
      await context.appendSingles(log, 5);
      log.setHighWatermark(4);
      const outcome = await log.enforceRetention(10n);
      expect(outcome).toEqual({ segmentsDeleted: 3, rolled: false });
      expect([log.oldestOffset, log.newestOffset]).toEqual([3, 4]);
      expect(values(await readAll(log))).toEqual(['v3', 'v4']);
      await log.close();
    });

    it('deletes by message count (Go TestDeleteCleanerMessages)', async () => {
      const log = await context.open({ segmentMaxBytes: 1, retentionMaxMessages: 10 });
      await context.appendSingles(log, 20);
      log.setHighWatermark(19);
      expect((await log.enforceRetention(100n)).segmentsDeleted).toBe(10);
      expect(log.oldestOffset).toBe(10);
      await log.close();
    });

    it('keeps the active segment even when it alone exceeds the limit (Go TestDeleteCleanerMessagesKeepActiveSegment)', async () => {
      const log = await context.open({ retentionMaxMessages: 5 });
      await appendDurably(log, Array.from({ length: 10 }, (_, i) => aRecord(`a${i}`)), 1n, 1);
      await appendDurably(log, [aRecord('x')], 2n, 1); // same segment: nothing to delete
      log.setHighWatermark(10);
      expect((await log.enforceRetention(100n)).segmentsDeleted).toBe(0);
      expect(log.oldestOffset).toBe(0);
      await log.close();
    });

    it('applies messages then bytes (Go TestDeleteCleanerBytesMessages)', async () => {
      const size = await entryBytes();
      const log = await context.open({ segmentMaxBytes: 1, retentionMaxMessages: 15, retentionMaxBytes: 5 * (size + 1) }); // v15..v19 are one byte longer than v0
      await context.appendSingles(log, 20);
      log.setHighWatermark(19);
      await log.enforceRetention(100n);
      expect(log.oldestOffset).toBe(15);
      await log.close();
    });

    it('deletes segments whose last record is older than the age limit (Go TestDeleteCleanerAge)', async () => {
      const log = await context.open({ segmentMaxBytes: 1, retentionMaxAgeMs: 100 });
      await context.appendSingles(log, 20, () => 1, (i) => BigInt(i * 10) * MS);
      log.setHighWatermark(19);
      await log.enforceRetention(200n * MS);
      expect(log.oldestOffset).toBe(10);
      expect((await log.enforceRetention(0n)).segmentsDeleted).toBe(0); // cut-off before everything
      await log.close();
    });

    it('never deletes a segment holding offsets above the high watermark', async () => {
      const log = await context.open({ segmentMaxBytes: 1, retentionMaxMessages: 1 });
      await context.appendSingles(log, 6);
      expect((await log.enforceRetention(100n)).segmentsDeleted).toBe(0);
      log.setHighWatermark(2);
      expect((await log.enforceRetention(100n)).segmentsDeleted).toBe(3);
      expect(log.oldestOffset).toBe(3);
      await log.close();
    });

    it('trims the epoch cache after deleting (Go TestCleanerDeleteLeaderEpochOffsets, KIP-101 answers)', async () => {
      const log = await context.open({ segmentMaxBytes: 6, retentionMaxMessages: 5 });
      await context.appendSingles(log, 15, (i) => (i < 5 ? 1 : i < 10 ? 2 : 3));
      log.setHighWatermark(14);
      expect((await log.enforceRetention(100n)).segmentsDeleted).toBe(10);
      expect([log.oldestOffset, log.newestOffset]).toEqual([10, 14]);
      expect([0, 1, 2, 3].map((e) => log.endOffsetForLeaderEpoch(e))).toEqual([10, 10, 10, 15]);
      await log.close();
    });

    it('rolls a segment on size before an append and by age in maintenance (Go TestCleaner)', async () => {
      const log = await context.open({ segmentMaxBytes: 6, retentionMaxBytes: 30, segmentMaxAgeMs: 1000 });
      await appendDurably(log, [aRecord('a'), aRecord('b')], 0n, 1);
      await appendDurably(log, [aRecord('c'), aRecord('d')], 1n, 1); // rolls: the first segment is full
      log.setHighWatermark(3);
      expect(await log.enforceRetention(2n)).toEqual({ segmentsDeleted: 1, rolled: false });
      expect(log.oldestOffset).toBe(2);
      // Aged out: rolled, and the segment it sealed exceeds the 30 bytes, so it goes in the same pass.
      expect(await log.enforceRetention(2000n * MS)).toEqual({ segmentsDeleted: 1, rolled: true });
      expect(await log.enforceRetention(2001n * MS)).toEqual({ segmentsDeleted: 0, rolled: false }); // active is empty
      expect([log.oldestOffset, log.newestOffset]).toEqual([4, 3]);
      expect(await log.read(0, 10, 1 << 20)).toBeNull();
      await appendDurably(log, [aRecord('e')], 2002n * MS, 1);
      expect(values(await readAll(log))).toEqual(['e']);
      await log.close();
    });

    it('rolls by age before an append', async () => {
      const log = await context.open({ segmentMaxAgeMs: 10, retentionMaxMessages: 1 });
      await appendDurably(log, [aRecord('a'), aRecord('b')], 0n, 1);
      await appendDurably(log, [aRecord('c')], 20n * MS, 1);
      log.setHighWatermark(2);
      expect((await log.enforceRetention(21n * MS)).segmentsDeleted).toBe(1);
      expect(log.oldestOffset).toBe(2);
      await log.close();
    });
  });
}

export function describeReplicationContract(context: ContractContext): void {
  describe('replication', () => {
    it('appends replicated batches keeping offsets, timestamps and epochs (Go TestAppendMessageSet)', async () => {
      const leader = await context.harness.store.open({ stream: 'leader', partition: 0 }, contractOptions());
      await appendDurably(leader, [aRecord('a'), aRecord('b')], 10n, 4);
      await appendDurably(leader, [aRecord('c')], 20n, 6);
      const follower = await context.open({ segmentMaxBytes: 1 });
      const all = (await leader.read(0, 2, 1 << 20))!;
      await follower.appendReplicated(all);
      expect(follower.newestOffset).toBe(2);
      expect(follower.lastLeaderEpoch).toBe(6);
      expect([3, 4, 5, 6].map((e) => follower.endOffsetForLeaderEpoch(e))).toEqual([0, 2, 2, 3]);
      const entries = await readAll(follower);
      expect(entries.map((e) => [e.offset, e.timestampNs, e.leaderEpoch])).toEqual([[0, 10n, 4], [1, 10n, 4], [2, 20n, 6]]);
      expect((await follower.read(0, 2, 1 << 20))!.bytes.equals(all.bytes)).toBe(true);
      await Promise.all([leader.close(), follower.close()]);
    });

    it('rejects a batch that does not continue the log or fails its CRC, writing nothing', async () => {
      const leader = await context.harness.store.open({ stream: 'leader', partition: 0 }, contractOptions());
      await appendDurably(leader, [aRecord('a'), aRecord('b')], 10n, 4);
      const batch = (await leader.read(0, 1, 1 << 20))!;
      const follower = await context.open();
      const gap = (await leader.read(1, 1, 1 << 20))!;
      await expect(follower.appendReplicated(gap)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
      const flipped = Buffer.from(batch.bytes);
      flipped[flipped.length - 1] ^= 0xff;
      await expect(follower.appendReplicated({ ...batch, bytes: flipped })).rejects.toBeInstanceOf(SegmentCorruptedError);
      await expect(follower.appendReplicated({ ...batch, count: 3, lastOffset: 2 })).rejects.toBeInstanceOf(SegmentCorruptedError);
      expect(follower.newestOffset).toBe(-1);
      await follower.appendReplicated(batch);
      expect(values(await readAll(follower))).toEqual(['a', 'b']);
      await Promise.all([leader.close(), follower.close()]);
    });
  });
}
