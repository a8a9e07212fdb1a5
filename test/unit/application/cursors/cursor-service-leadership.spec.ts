import { CURSORS_STREAM } from '../../../../src/application/cluster/internal-streams';
import { cursorKey, cursorPartition } from '../../../../src/application/cursors/cursor-key';
import { CursorService } from '../../../../src/application/cursors/cursor-service';
import type { MetadataService } from '../../../../src/application/metadata/metadata-service';
import type { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import type { CursorRecords } from '../../../../src/application/ports/cursor-records.port';
import type { RecordBatch } from '../../../../src/application/ports/partition-log.port';
import type { ServerSettings } from '../../../../src/application/server-settings';
import type { PublishHandler } from '../../../../src/application/use-cases/publish';
import type { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { NoMetrics } from '../../../../src/adapters/outbound/metrics/no-metrics';
import { VirtualTime } from '../../../support/virtual-time';

/**
 * The cursor service against a scripted `__cursors` partition: its log is a list of (key, offset)
 * records whose high watermark the test moves, and its leader and leader epoch are the test's.
 */
class ScriptedPartition {
  readonly records: { key: string; offset: number }[] = [];
  highWatermark = -1;
  leader = 'a';
  leaderEpoch = 1;
  readonly commitWaiters: (() => void)[] = [];

  get newestOffset(): number {
    return this.records.length - 1;
  }

  append(key: string, offset: number, committed = true): void {
    this.records.push({ key, offset });
    if (committed) this.commit(this.newestOffset);
  }

  commit(offset: number): void {
    this.highWatermark = offset;
    for (const wake of this.commitWaiters.splice(0)) wake();
  }

  /** The PartitionLog members the cursor service uses. */
  readonly log = ((partition: ScriptedPartition) => ({
    get oldestOffset(): number {
      return partition.records.length === 0 ? -1 : 0;
    },
    get newestOffset(): number {
      return partition.newestOffset;
    },
    get highWatermark(): number {
      return partition.highWatermark;
    },
    closedReason: null,
    read: async (from: number, max: number): Promise<RecordBatch | null> =>
      from > max || from > partition.newestOffset ? null : { bytes: Buffer.alloc(0), firstOffset: from, lastOffset: Math.min(max, partition.newestOffset), count: 0 },
    waitForCommit: (_after: number, signal: AbortSignal): Promise<void> =>
      new Promise<void>((resolve) => {
        partition.commitWaiters.push(resolve);
        signal.addEventListener('abort', () => resolve());
      }),
  }))(this);
}

const ID = { cursorId: 'abc', stream: 'foo', partition: 2 };
const KEY = cursorKey('abc', 'foo', 2);
const PARTITIONS = 1;

function service(p: ScriptedPartition, time: VirtualTime): CursorService {
  const metadata = {
    get state() {
      const partition = { id: 0, leader: p.leader, leaderEpoch: p.leaderEpoch, paused: false };
      return { streams: new Map([[CURSORS_STREAM, { partitions: [partition] }]]) };
    },
  } as unknown as MetadataService;
  const supervisor = { get: () => ({ log: p.log, isLeader: p.leader === 'a' }) } as unknown as PartitionSupervisor;
  const publisher = {
    publish: async (request: { key: Uint8Array; value: Uint8Array }) => {
      p.append(Buffer.from(request.key).toString(), Number(Buffer.from(request.value).toString()));
      return { ok: true, value: null };
    },
  } as unknown as PublishHandler;
  const records: CursorRecords = {
    encode: (cursor) => Buffer.from(String(cursor.offset)),
    latestIn: (batch, key) => {
      let found: number | null = null;
      for (let o = batch.firstOffset; o <= batch.lastOffset; o++) if (p.records[o]!.key === key) found = p.records[o]!.offset;
      return found;
    },
  };
  const settings = { serverId: 'a' } as ServerSettings;
  return new CursorService(metadata, supervisor, publisher, {} as StreamAdminHandler, records, settings, time, new NoMetrics());
}

describe('CursorService: the cache and the scan across leader changes', () => {
  it('answers from the cache within one leadership, and drops it when this server leads the partition again', async () => {
    const time = new VirtualTime();
    const p = new ScriptedPartition();
    const cursors = service(p, time);
    expect(cursorPartition(KEY, PARTITIONS)).toBe(0);
    await cursors.setCursor(ID, 5, 1000);
    // Another leader wrote a newer value meanwhile; this server's cache does not know.
    p.append(KEY, 9);
    expect(await cursors.fetchCursor(ID, 1000)).toEqual({ ok: true, value: 5 });

    p.leaderEpoch = 7; // this server became leader again

    expect(await cursors.fetchCursor(ID, 1000)).toEqual({ ok: true, value: 9 });
  });

  it('refuses with the partition number when another server leads it', async () => {
    const p = new ScriptedPartition();
    p.leader = 'b';
    expect(await service(p, new VirtualTime()).fetchCursor(ID, 1000)).toEqual({ ok: false, error: { kind: 'NotCursorsLeader', partition: 0 } });
  });

  it('after a leader change, waits until the log above the high watermark is committed before reading, so an acknowledged cursor never reads older', async () => {
    const time = new VirtualTime();
    const p = new ScriptedPartition();
    p.append(KEY, 1);
    p.append(KEY, 2, false); // acknowledged under the old leader, not yet committed by the new one
    const cursors = service(p, time);

    const answer = cursors.fetchCursor(ID, 1000);
    await time.advance(100);
    p.commit(1);

    expect(await answer).toEqual({ ok: true, value: 2 });
  });

  it('answers CursorsNotCommitted (UNAVAILABLE on the wire, the client retries) when the log is not committed within the wait', async () => {
    const time = new VirtualTime();
    const p = new ScriptedPartition();
    p.append(KEY, 1);
    p.append(KEY, 2, false);
    const answer = service(p, time).fetchCursor(ID, 1000);
    await time.advance(1000);

    expect(await answer).toEqual({ ok: false, error: { kind: 'CursorsNotCommitted', partition: 0 } });
  });
});
