import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { FakeRaftGroup, FollowerMetadataLog, startServer } from '../../application/cluster/cluster-fixtures';
import { flushPromises, VirtualTime } from '../../../support/virtual-time';

const ALL_DUTIES = { partitions: true, raftGroup: 'member' } as const;

/** "a" is the only voter and leads the metadata log; "b" has no Raft state and follows a's log. */
async function controllerAndJoiner(): Promise<{
  time: VirtualTime;
  leaderLog: InMemoryMetadataLog;
  groupA: FakeRaftGroup;
  a: Awaited<ReturnType<typeof startServer>>;
  b: Awaited<ReturnType<typeof startServer>>;
}> {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const leaderLog = new InMemoryMetadataLog();
  const groupA = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] });
  const groupB = new FakeRaftGroup({ isLeader: false, leader: 'a', voters: [] });
  const a = await startServer({ hub, time, log: leaderLog, group: groupA, settings: { serverId: 'a' }, duties: ALL_DUTIES });
  await a.lifecycle.register(9292);
  const b = await startServer({
    hub,
    time,
    log: new FollowerMetadataLog(leaderLog, true),
    group: groupB,
    settings: { serverId: 'b' },
    duties: { partitions: true, raftGroup: 'join' },
  });
  return { time, leaderLog, groupA, a, b };
}

describe('ServerLifecycle: the one boot and stop order', () => {
  it('a group of one campaigns at once, takes the controller role and registers itself', async () => {
    const { groupA, a } = await controllerAndJoiner();

    expect(groupA.campaigns).toBe(1);
    expect(a.role.isActive).toBe(true);
    expect(a.lifecycle.registered).toBe(true);
  });

  it('a server without Raft state joins through the controller, then registers through it', async () => {
    const { groupA, a, b } = await controllerAndJoiner();
    expect(groupA.voters()).toEqual(['a', 'b']);
    expect(b.lifecycle.registered).toBe(false);

    await b.lifecycle.register(9293);

    expect(a.metadata.state.brokers.get('b')).toMatchObject({ host: 'localhost', port: 9293 });
    expect(b.lifecycle.registered).toBe(true);
  });

  it('stops in reverse: no timer is left running, and the metadata log is closed', async () => {
    const { time, leaderLog, a, b } = await controllerAndJoiner();
    await b.lifecycle.register(9293);

    expect(await b.lifecycle.stop()).toEqual([]);
    expect(await a.lifecycle.stop()).toEqual([]);
    await flushPromises();

    expect(a.role.isActive).toBe(false);
    expect(time.pendingTimers).toBe(0);
    await expect(leaderLog.propose({ proposalId: 'late', events: [], expectations: [] })).rejects.toThrow('metadata log is closed');
  });

  it('keeps the metadata serving until the client API has stopped', async () => {
    const { a } = await controllerAndJoiner();
    let apiStopped!: () => void;
    const stopping = a.lifecycle.stop(new Promise<void>((resolve) => (apiStopped = resolve)));
    await flushPromises();

    const registered = await a.metadata.execute({ type: 'RegisterBroker', data: { id: 'c', host: 'c.local', port: 9292 } });
    expect(registered.ok).toBe(true);

    apiStopped();
    expect(await stopping).toEqual([]);
    await expect(a.metadata.execute({ type: 'RegisterBroker', data: { id: 'd', host: 'd.local', port: 9292 } })).rejects.toThrow('metadata log is closed');
  });
});
