/**
 * A truncation that lands while a flush is finishing (found by the power-loss tests, docs/testing.md):
 * the flush's appends were capped by the truncation and must not count as written or durable when
 * the flush completes, or the log would report records of the next appends as durable before they
 * are (a leader would commit them, followers would fetch them).
 */
import { Logger } from '../../../../src/application/ports/logger.port';
import { NewRecord } from '../../../../src/application/ports/partition-log.port';
import { FilesystemPartitionLogStore } from '../../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { PowerLossFileSystem } from '../../../support/power-loss/power-loss-file-system';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const record = (value: string): NewRecord => ({ key: null, value: Buffer.from(value), headers: null, subject: 's', reply: '' });

describe('FilesystemPartitionLog flush races', () => {
  it.each(['always', 'never'] as const)('does not report truncated records as durable when the flush that wrote them completes after the truncation (%s)', async (syncPolicy) => {
    const disk = new PowerLossFileSystem({ seed: 5, latencyMicrotasksMax: 0 });
    const store = new FilesystemPartitionLogStore({ dataDir: '/data', logger: silent, fs: disk.mount() });
    const log = await store.open(
      { stream: 's', partition: 0 },
      { segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 0, retentionMaxBytes: 0, retentionMaxMessages: 0, retentionMaxAgeMs: 0, syncPolicy, syncIntervalMs: 10 },
    );
    let truncation: Promise<void> | null = null;
    // The flush writes the records, then the leader-epoch checkpoint: truncate right then.
    disk.failWhen((op) => {
      if (truncation === null && op.kind === 'open' && op.path.endsWith('leader-epoch-checkpoint.tmp')) truncation = log.truncateFrom(0);
      return false;
    }, 'UNUSED');
    const appended = log.append([record('a'), record('b'), record('c')], 1n, 1);
    await appended.durable;
    expect(truncation).not.toBeNull();
    await truncation;
    expect(log.newestOffset).toBe(-1);
    expect(log.durableOffset).toBe(-1);
    const next = log.append([record('x')], 2n, 1);
    expect(log.durableOffset).toBe(-1); // not durable before its own flush
    await next.durable;
    expect(log.durableOffset).toBe(0);
    await log.close();
  });

  it('keeps the lower cap when a second truncation lands while the same flush is under way', async () => {
    const disk = new PowerLossFileSystem({ seed: 6, latencyMicrotasksMax: 0 });
    const store = new FilesystemPartitionLogStore({ dataDir: '/data', logger: silent, fs: disk.mount() });
    const log = await store.open(
      { stream: 's', partition: 0 },
      { segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 0, retentionMaxBytes: 0, retentionMaxMessages: 0, retentionMaxAgeMs: 0, syncPolicy: 'always', syncIntervalMs: 10 },
    );
    let rewritten: Promise<unknown> | null = null;
    disk.failWhen((op) => {
      if (rewritten === null && op.kind === 'open' && op.path.endsWith('leader-epoch-checkpoint.tmp')) {
        // All of the flush's records go, new ones take their offsets, then a truncation above them.
        void log.truncateFrom(0);
        const again = log.append(['n0', 'n1', 'n2', 'n3', 'n4'].map(record), 2n, 1);
        rewritten = Promise.all([again.durable, log.truncateFrom(3)]);
      }
      return false;
    }, 'UNUSED');
    const old = log.append(['o0', 'o1', 'o2', 'o3', 'o4'].map(record), 1n, 1);
    let durableWhenTheOldFlushCompleted: number | null = null;
    await old.durable.then(() => (durableWhenTheOldFlushCompleted = log.durableOffset));
    expect(durableWhenTheOldFlushCompleted).toBe(-1); // the new records were not written yet
    await rewritten;
    expect(log.durableOffset).toBe(2);
    await log.close();
  });
});
