import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { CURSORS_STREAM, INTERNAL_STREAM_RETRY_MS } from '../../../../src/application/cluster/internal-streams';
import { ServerSettings } from '../../../../src/application/server-settings';
import { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { VirtualTime } from '../../../support/virtual-time';
import { FakeRaftGroup, startServer, TestServer } from './cluster-fixtures';
import { silentLogger } from '../../../support/memory-broker';

const CURSORS = { partitions: 3, replicationFactor: -1, autoPauseTimeMs: 60_000 };

async function candidate(settings: Partial<ServerSettings>, options: { register: boolean }): Promise<{ time: VirtualTime; group: FakeRaftGroup; server: TestServer }> {
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: false, leader: null, voters: ['a'] });
  const server = await startServer({ hub: new InMemoryClusterHub(), time, log: new InMemoryMetadataLog(), group, settings: { serverId: 'a', ...settings } });
  if (options.register) await server.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } });
  server.role.start();
  return { time, group, server };
}

const register = (server: TestServer) => server.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } });

describe('InternalStreams: the controller keeps the configured internal streams in existence', () => {
  it('creates __cursors when this server becomes controller: its subject under the namespace, partitions, RF -1 = every server, unlimited retention, the auto-pause time', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: true });
    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false);

    group.isLeader = true;
    await time.advance(0);

    const stream = server.metadata.state.streams.get(CURSORS_STREAM);
    expect(stream).toMatchObject({ name: '__cursors', subject: 'liftbridge-default.cursors', replicationFactor: 1 });
    expect(stream?.partitions).toHaveLength(3);
    expect(stream?.config).toEqual({
      retentionMaxBytes: 0, retentionMaxMessages: 0, retentionMaxAgeMs: 0, autoPauseTimeMs: 60_000, autoPauseDisableIfSubscribers: true, encryption: false,
    });
  });

  it('a stream on every server waits (about 15 s at most) for every voter of the metadata group to register', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: true });
    group.voterIds.push('b', 'c');
    group.isLeader = true;
    await time.advance(0);
    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false);
    await server.metadata.execute({ type: 'RegisterBroker', data: { id: 'b', host: 'b.local', port: 9292 } });
    await server.metadata.execute({ type: 'RegisterBroker', data: { id: 'c', host: 'c.local', port: 9292 } });
    await time.advance(INTERNAL_STREAM_RETRY_MS[0]);
    expect(server.metadata.state.streams.get(CURSORS_STREAM)).toMatchObject({ replicationFactor: 3 });
  });

  it('a voter that never registers delays the stream on every server only so long: it is then created on the servers there are', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: true });
    group.voterIds.push('b');
    group.isLeader = true;
    await time.advance(INTERNAL_STREAM_RETRY_MS[0] + INTERNAL_STREAM_RETRY_MS[1] + INTERNAL_STREAM_RETRY_MS[2]);
    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false);
    await time.advance(INTERNAL_STREAM_RETRY_MS[3]);
    expect(server.metadata.state.streams.get(CURSORS_STREAM)).toMatchObject({ replicationFactor: 1 });
  });

  it('takes an existing stream as done: a new controller term changes nothing', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: true });
    group.isLeader = true;
    await time.advance(0);
    const created = server.metadata.state.streams.get(CURSORS_STREAM);

    group.isLeader = false;
    await time.advance(0);
    group.isLeader = true;
    await time.advance(60_000);

    expect(server.metadata.state.streams.get(CURSORS_STREAM)).toBe(created);
    expect(time.pendingTimers).toBe(0);
  });

  it('says, rather than ignores, a setting changed since the stream was created (it cannot apply any more)', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: true });
    // __cursors as an earlier configuration created it: another auto-pause time.
    const created = await server.metadata.execute({
      type: 'CreateStream',
      data: { name: CURSORS_STREAM, subject: 'liftbridge-default.cursors', group: '', replicationFactor: 1, partitions: 3, config: { autoPauseTimeMs: 5000 }, creationTimestampNs: '1', namespace: 'liftbridge-default' },
    });
    expect(created.ok).toBe(true);
    const warn = jest.spyOn(silentLogger, 'warn');
    group.isLeader = true;
    await time.advance(0);
    const lines = warn.mock.calls.filter(([, msg]) => typeof msg === 'string' && msg.startsWith('internal stream exists with other settings'));
    warn.mockRestore();
    expect(lines).toHaveLength(1);
    expect(lines[0]![0]).toMatchObject({ stream: CURSORS_STREAM, fields: expect.arrayContaining(['autoPauseTimeMs']) });
    expect(server.metadata.state.streams.get(CURSORS_STREAM)?.config).toEqual({ autoPauseTimeMs: 5000 });
  });

  it('retries a failed creation with back-off until it succeeds', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: false });
    group.isLeader = true;
    await time.advance(0);
    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false); // no broker to place replicas on yet

    await time.advance(INTERNAL_STREAM_RETRY_MS[0] + INTERNAL_STREAM_RETRY_MS[1]);
    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false);
    await register(server);
    await time.advance(INTERNAL_STREAM_RETRY_MS[2]);

    expect(server.metadata.state.streams.get(CURSORS_STREAM)?.partitions).toHaveLength(3);
  });

  it('stops retrying when this server stops being the controller', async () => {
    const { time, group, server } = await candidate({ cursors: CURSORS }, { register: false });
    group.isLeader = true;
    await time.advance(0);
    group.isLeader = false;
    await time.advance(0);
    await register(server);

    await time.advance(60_000);

    expect(server.metadata.state.streams.has(CURSORS_STREAM)).toBe(false);
    expect(time.pendingTimers).toBe(0);
  });

  it('creates nothing when cursors are disabled (0 partitions)', async () => {
    const { time, group, server } = await candidate({ cursors: { ...CURSORS, partitions: 0 } }, { register: true });
    group.isLeader = true;
    await time.advance(0);

    expect([...server.metadata.state.streams.keys()]).toEqual([]);
  });

  it('a client still cannot create a reserved name, even on its internal subject', async () => {
    const { server } = await candidate({ cursors: CURSORS }, { register: true });
    const admin = server.container.get(StreamAdminHandler);
    const request = { name: '__cursors', subject: 'liftbridge-default.cursors', group: '', replicationFactor: 1, partitions: 1, config: {} };
    expect(await admin.createStream(request)).toEqual({ ok: false, error: { kind: 'StreamNameReserved', stream: '__cursors' } });
  });
});
