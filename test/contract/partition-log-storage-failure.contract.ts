/**
 * Storage-failure section of the partition-log contract (run from partition-log.contract.ts when the
 * runner can make the disk full: `harness.storageFaults`). The behaviour `PartitionLog.storageFailure`
 * documents: appends refused at once while failed, what is durable still served, recovery by
 * itself once the disk takes writes again, continuing right after the durable offset.
 */
import { StorageIoError } from '../../src/application/ports/partition-log.errors';
import { waitFor } from '../support/ports';
import { aRecord, ContractContext, readAll, values } from './partition-log-contract-support';

/** Recovery retries with a back-off; the contract allows this long after the disk has room again. */
const RECOVERY_WITHIN_MS = 10_000;

export function describeStorageFailureContract(context: ContractContext): void {
  describe('storage failures (docs/storage.md)', () => {
    it('refuses appends while the disk is full, serves what is durable, and recovers by itself once it has room', async () => {
      const faults = context.harness.storageFaults!;
      const log = await context.open();
      await context.appendSingles(log, 3);
      log.setHighWatermark(2);
      faults.fill();
      const failing = log.append([aRecord('lost')], 10n, 1);
      await expect(failing.durable).rejects.toBeInstanceOf(StorageIoError);
      expect(log.storageFailure).toBeInstanceOf(StorageIoError);
      expect(log.storageFailure!.retriable).toBe(true);
      expect(() => log.append([aRecord('refused')], 11n, 1)).toThrow(StorageIoError);
      expect(values(await readAll(log, 0, log.highWatermark))).toEqual(['v0', 'v1', 'v2']);

      faults.free();
      await waitFor(() => log.storageFailure === null, RECOVERY_WITHIN_MS, 'the log to recover from the full disk');
      expect(log.newestOffset).toBe(log.durableOffset);
      const next = log.append([aRecord('after')], 12n, 1);
      expect(next.firstOffset).toBe(3);
      await next.durable;
      expect(values(await readAll(log))).toEqual(['v0', 'v1', 'v2', 'after']);
      await log.close();
    });
  });
}
