/**
 * A follower whose log fails to write (a full disk) waits for the log to recover by itself and then
 * replicates again (docs/storage.md "Storage failures"); it used to stop replicating for good.
 */
import { encodeNewRecords } from '../../../../src/adapters/codec/message-set';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import { TimerScheduler } from '../../../../src/adapters/outbound/system/timer-scheduler';
import { SystemClock } from '../../../../src/adapters/outbound/system/system-clock';
import { Logger } from '../../../../src/application/ports/logger.port';
import { StorageIoError } from '../../../../src/application/ports/partition-log.errors';
import { PartitionLog, PartitionLogOptions, RecordBatch } from '../../../../src/application/ports/partition-log.port';
import { PartitionFollower } from '../../../../src/application/partitions/partition-follower';
import { waitFor } from '../../../support/ports';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const ref = { stream: 'orders', partition: 0 };
const options: PartitionLogOptions = { segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 0, retentionMaxBytes: 0, retentionMaxMessages: 0, retentionMaxAgeMs: 0, syncPolicy: 'always', syncIntervalMs: 10 };

/** The follower's log, on a disk that is full while `full` is set (as the filesystem log behaves). */
function onFlakyDisk(log: PartitionLog, disk: { full: boolean }): PartitionLog {
  const failure = new StorageIoError('partition log failed to write or sync (ENOSPC)', 'ENOSPC');
  return new Proxy(log, {
    get(target, property, receiver) {
      if (property === 'storageFailure') return disk.full ? failure : null;
      if (property === 'appendReplicated') {
        return (batch: RecordBatch) => (disk.full ? Promise.reject(failure) : target.appendReplicated(batch));
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('PartitionFollower when its log cannot write', () => {
  it('waits for the log to recover and replicates again', async () => {
    const records = ['a', 'b', 'c'].map((v) => ({ key: null, value: Buffer.from(v), headers: null, subject: 'orders', reply: '' }));
    const batch: RecordBatch = { bytes: encodeNewRecords(records, 0, 1n, 1), firstOffset: 0, lastOffset: 2, count: 3 };
    const hub = new InMemoryReplicationHub();
    const leader = hub.connect('a');
    const fetched: number[] = [];
    await leader.serveFetches(ref, async (request) => {
      fetched.push(request.offset);
      if (request.offset >= 2) await new Promise((resolve) => setTimeout(resolve, 20)); // a caught-up follower's long poll
      return { leaderEpoch: 1, highWatermark: 2, records: request.offset < 2 ? batch : null };
    });
    await leader.serveLeaderEpochEndOffsets(ref, () => ({ leaderEpoch: 1, endOffset: 3 }));
    const disk = { full: true };
    const log = onFlakyDisk(await new InMemoryPartitionLogStore().open(ref, options), disk);
    const follower = new PartitionFollower(
      { self: 'b', ref, leaderEpoch: 1, fetchTimeoutMs: 200, leaderTimeoutMs: 15_000 },
      { log, transport: hub.connect('b'), scheduler: new TimerScheduler(), clock: new SystemClock(), logger: silent, inIsr: () => true, reportLeader: async () => true },
    );
    follower.start();
    try {
      await waitFor(() => fetched.length >= 1, 2000, 'the first fetch');
      expect(log.newestOffset).toBe(-1);
      disk.full = false;
      await waitFor(() => log.newestOffset === 2, 5000, 'the follower to replicate after its log recovered');
      expect(log.highWatermark).toBe(2);
    } finally {
      await follower.stop();
      await log.close();
    }
  });
});
