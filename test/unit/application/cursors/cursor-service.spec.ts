import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { CURSORS_STREAM } from '../../../../src/application/cluster/internal-streams';
import { cursorKey, cursorPartition } from '../../../../src/application/cursors/cursor-key';
import { CursorAddress, CursorService } from '../../../../src/application/cursors/cursor-service';
import { PublishHandler } from '../../../../src/application/use-cases/publish';
import { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { TOKENS } from '../../../../src/application/tokens';
import { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import { VirtualTime } from '../../../support/virtual-time';
import { FakeRaftGroup, startServer, TestServer } from '../cluster/cluster-fixtures';

const PARTITIONS = 5;
const WAIT_MS = 1000;

async function cursorServer(options: { cursors: boolean } = { cursors: true }): Promise<{ time: VirtualTime; server: TestServer; cursors: CursorService }> {
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] });
  const server = await startServer({
    hub: new InMemoryClusterHub(),
    time,
    log: new InMemoryMetadataLog(),
    group,
    settings: { serverId: 'a', cursors: { partitions: options.cursors ? PARTITIONS : 0, replicationFactor: -1, autoPauseTimeMs: 0 } },
    duties: { partitions: true, raftGroup: 'none' },
  });
  await server.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } });
  server.role.start();
  await time.advance(0);
  await server.container.get(PartitionSupervisor).settled();
  return { time, server, cursors: server.container.get(CursorService) };
}

/** Runs `work` while virtual time moves on, so that timers it waits for can fire. */
async function settle<T>(time: VirtualTime, work: Promise<T>): Promise<T> {
  let done = false;
  void work.finally(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) await time.advance(10);
  return work;
}

/** A second service over the same server: its cache is empty, so it must read the log. */
function uncachedService(server: TestServer): CursorService {
  const c = server.container;
  return new CursorService(
    c.get(MetadataService), c.get(PartitionSupervisor), c.get(PublishHandler), c.get(StreamAdminHandler),
    c.get(TOKENS.CursorRecords), c.get(TOKENS.ServerSettings), c.get(TOKENS.Scheduler), c.get(TOKENS.Metrics),
  );
}

const address = (cursorId: string, stream = 'foo', partition = 2): CursorAddress => ({ cursorId, stream, partition });

describe('CursorService: SetCursor and FetchCursor on the leader of the owning __cursors partition', () => {
  it('answers -1 for a cursor never set, then the latest value set (Go TestSetFetchCursor)', async () => {
    const { time, cursors } = await cursorServer();
    expect(await settle(time, cursors.fetchCursor(address('abc'), WAIT_MS))).toEqual({ ok: true, value: -1 });

    expect(await settle(time, cursors.setCursor(address('abc'), 5, WAIT_MS))).toEqual({ ok: true, value: undefined });
    expect(await settle(time, cursors.fetchCursor(address('abc'), WAIT_MS))).toEqual({ ok: true, value: 5 });
    expect(await settle(time, cursors.setCursor(address('abc'), 10, WAIT_MS))).toEqual({ ok: true, value: undefined });
    expect(await settle(time, cursors.fetchCursor(address('abc'), WAIT_MS))).toEqual({ ok: true, value: 10 });
  });

  it('writes the record on the partition the key hashes to, keyed by the cursor key', async () => {
    const { time, server, cursors } = await cursorServer();
    await settle(time, cursors.setCursor(address('abc'), 7, WAIT_MS));

    const owner = cursorPartition(cursorKey('abc', 'foo', 2), PARTITIONS);
    const logs = server.container.get(PartitionSupervisor);
    for (let p = 0; p < PARTITIONS; p++) {
      expect(logs.get({ stream: CURSORS_STREAM, partition: p })?.log.newestOffset).toBe(p === owner ? 0 : -1);
    }
  });

  it('refuses an empty stream or cursor id on set and fetch, with Liftbridge\'s reasons', async () => {
    const { time, cursors } = await cursorServer();
    expect(await settle(time, cursors.setCursor(address('abc', ''), 1, WAIT_MS))).toEqual({ ok: false, error: { kind: 'NoStreamProvided' } });
    expect(await settle(time, cursors.setCursor(address(''), 1, WAIT_MS))).toEqual({ ok: false, error: { kind: 'NoCursorIdProvided' } });
    expect(await settle(time, cursors.fetchCursor(address('abc', ''), WAIT_MS))).toEqual({ ok: false, error: { kind: 'NoStreamProvided' } });
    expect(await settle(time, cursors.fetchCursor(address(''), WAIT_MS))).toEqual({ ok: false, error: { kind: 'NoCursorIdProvided' } });
  });

  it('answers that the cursors stream does not exist when cursors are disabled', async () => {
    const { time, cursors } = await cursorServer({ cursors: false });
    expect(await settle(time, cursors.fetchCursor(address('abc'), WAIT_MS))).toEqual({ ok: false, error: { kind: 'CursorsDisabled' } });
    expect(await settle(time, cursors.setCursor(address('abc'), 1, WAIT_MS))).toEqual({ ok: false, error: { kind: 'CursorsDisabled' } });
  });

  it('without the cache, scans the partition newest to oldest and finds the latest value, across many other records (Go TestSetFetchCursorNoCache)', async () => {
    const { time, server, cursors } = await cursorServer();
    const owner = cursorPartition(cursorKey('target', 'foo', 2), PARTITIONS);
    // Cursors of other ids that share the target's partition, so the scan has to step over them.
    const neighbours: string[] = [];
    for (let i = 0; neighbours.length < 600; i++) if (cursorPartition(cursorKey(`n${i}`, 'foo', 2), PARTITIONS) === owner) neighbours.push(`n${i}`);
    await settle(time, cursors.setCursor(address('target'), 1, WAIT_MS));
    for (const id of neighbours.slice(0, 300)) await settle(time, cursors.setCursor(address(id), 100, WAIT_MS));
    await settle(time, cursors.setCursor(address('target'), 2, WAIT_MS));
    for (const id of neighbours.slice(300)) await settle(time, cursors.setCursor(address(id), 200, WAIT_MS));

    const fresh = uncachedService(server);
    expect(await settle(time, fresh.fetchCursor(address('target'), WAIT_MS))).toEqual({ ok: true, value: 2 });
    expect(await settle(time, fresh.fetchCursor(address(neighbours[0]!), WAIT_MS))).toEqual({ ok: true, value: 100 });
    expect(await settle(time, fresh.fetchCursor(address('never-set'), WAIT_MS))).toEqual({ ok: true, value: -1 });
    expect(await settle(time, fresh.fetchCursor(address('target', 'foo', 3), WAIT_MS))).toEqual({ ok: true, value: -1 });
  });

  it('answers -1 from an empty partition without reading it (Go TestFetchCursorEmpty)', async () => {
    const { time, server } = await cursorServer();
    expect(await settle(time, uncachedService(server).fetchCursor(address('abc'), WAIT_MS))).toEqual({ ok: true, value: -1 });
  });
});
