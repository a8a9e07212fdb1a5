import { ControllerUnreachableError } from '../../../../src/application/ports/cluster-channel.port';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, startServer, TestServer } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** Long enough for anything timer-driven to have happened. */
const A_WHILE_MS = 500;

async function controllerCandidate(isLeader: boolean): Promise<{
  hub: InMemoryClusterHub; time: VirtualTime; group: FakeRaftGroup; log: InMemoryMetadataLog; server: TestServer;
}> {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader, leader: isLeader ? 'a' : null, voters: ['a'] });
  const log = new InMemoryMetadataLog();
  const server = await startServer({ hub, time, log, group, settings: { serverId: 'a' } });
  await server.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } });
  return { hub, time, group, log, server };
}

describe('ControllerRole: the controller duties follow leadership of the metadata group', () => {
  it('serves commands and joins at once when started as the leader', async () => {
    const { hub, time, server } = await controllerCandidate(true);

    server.role.start();
    await time.advance(0);

    expect(server.role.isActive).toBe(true);
    expect(hub.commandHandlers).toHaveLength(1);
    expect(hub.joinHandlers).toHaveLength(1);
  });

  it('serves nothing while a follower, so forwarded commands find no controller', async () => {
    const { hub, time, server } = await controllerCandidate(false);

    server.role.start();
    await time.advance(A_WHILE_MS);

    expect(server.role.isActive).toBe(false);
    await expect(hub.connect().forward(createStream('orders'), 100)).rejects.toBeInstanceOf(ControllerUnreachableError);
    await expect(hub.connect().requestJoin('b', 100)).rejects.toBeInstanceOf(ControllerUnreachableError);
  });

  it('takes up the duties as soon as it wins leadership, and drops them as soon as it loses it (no polling, no timers)', async () => {
    const { hub, time, group, server } = await controllerCandidate(false);
    server.role.start();
    await time.advance(0);

    group.isLeader = true;
    await time.advance(0);
    expect(server.role.isActive).toBe(true);
    expect(hub.commandHandlers).toHaveLength(1);

    group.isLeader = false;
    await time.advance(0);
    expect(server.role.isActive).toBe(false);
    expect(hub.commandHandlers).toHaveLength(0);
    expect(hub.joinHandlers).toHaveLength(0);
  });

  it('ends up serving when leadership is lost and won back before the resignation finished', async () => {
    const { hub, time, group, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);
    expect(server.role.isActive).toBe(true);

    group.isLeader = false;
    group.isLeader = true; // in the same turn: the resignation queued by the first change has not run yet
    await time.advance(0);

    expect(server.role.isActive).toBe(true);
    expect(hub.commandHandlers).toHaveLength(1);
    expect(hub.joinHandlers).toHaveLength(1);
  });

  it('answers a forwarded command with the events and the applied index', async () => {
    const { hub, time, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);

    const answer = await hub.connect().forward(createStream('orders'), 1000);

    expect(answer.kind).toBe('applied');
    if (answer.kind !== 'applied') return;
    expect(answer.events.map((e) => e.type)).toEqual(['StreamCreated', 'PartitionCreated']);
    expect(answer.index).toBe(server.metadata.state.lastAppliedIndex);
    expect(server.metadata.state.streams.has('orders')).toBe(true);
  });

  it('answers a refused command with the domain error', async () => {
    const { hub, time, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);

    const answer = await hub.connect().forward(createStream('orders', { partitions: 0 }), 1000);

    expect(answer).toEqual({ kind: 'refused', error: { kind: 'InvalidPartitionCount', partitions: 0, max: expect.any(Number) } });
  });

  it('answers "unavailable" to requests that arrive between losing leadership and dropping its duties', async () => {
    const { hub, time, group, server, log } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);
    const entriesBefore = log.stored.length;

    group.isLeader = false;
    // Both reach the handlers before the role has dropped them (that takes a turn of the event loop).
    const [answer, join] = await Promise.all([hub.connect().forward(createStream('orders'), 1000), hub.connect().requestJoin('b', 1000)]);

    expect(answer).toEqual({ kind: 'unavailable', reason: 'not the controller' });
    expect(join).toBe('not the controller');
    expect(log.stored).toHaveLength(entriesBefore);
    expect(group.addVoterCalls).toEqual([]);
    await time.advance(0);
    expect(server.role.isActive).toBe(false);
  });

  it('answers "unavailable" with the reason when executing the command fails', async () => {
    const { hub, time, server, log } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);
    await log.close();

    const answer = await hub.connect().forward(createStream('orders'), 1000);

    expect(answer).toEqual({ kind: 'unavailable', reason: 'metadata log is closed' });
  });

  it('adds a joining server as a voter', async () => {
    const { hub, time, group, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);

    expect(await hub.connect().requestJoin('b', 1000)).toBe('');
    expect(group.voters()).toEqual(['a', 'b']);
  });

  it('treats a join from a server that already votes as done, without changing membership again', async () => {
    const { hub, time, group, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);

    expect(await hub.connect().requestJoin('b', 1000)).toBe('');
    expect(await hub.connect().requestJoin('b', 1000)).toBe('');
    expect(await hub.connect().requestJoin('a', 1000)).toBe('');

    expect(group.addVoterCalls).toEqual(['b']);
    expect(group.voters()).toEqual(['a', 'b']);
  });

  it('returns the error message when adding the voter fails', async () => {
    const { hub, time, group, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);
    group.addVoterFailure = new Error('membership change in progress');

    expect(await hub.connect().requestJoin('b', 1000)).toBe('membership change in progress');
    expect(group.voters()).toEqual(['a']);
  });

  it('stops serving on stop() and no longer reacts to leadership', async () => {
    const { hub, time, group, server } = await controllerCandidate(true);
    server.role.start();
    await time.advance(0);

    await server.role.stop();
    expect(server.role.isActive).toBe(false);
    expect(hub.commandHandlers).toHaveLength(0);

    group.isLeader = true;
    await time.advance(A_WHILE_MS);
    expect(server.role.isActive).toBe(false);
    expect(hub.commandHandlers).toHaveLength(0);
    expect(time.pendingTimers).toBe(0);
  });

  it('hands the duties over: the new controller serves commands once the old one resigned', async () => {
    const hub = new InMemoryClusterHub();
    const time = new VirtualTime();
    const groupA = new FakeRaftGroup({ isLeader: true, voters: ['a', 'b'] });
    const groupB = new FakeRaftGroup({ isLeader: false, voters: ['a', 'b'] });
    const a = await startServer({ hub, time, log: new InMemoryMetadataLog(), group: groupA, settings: { serverId: 'a' } });
    const b = await startServer({ hub, time, log: new InMemoryMetadataLog(), group: groupB, settings: { serverId: 'b' } });
    await b.metadata.execute({ type: 'RegisterBroker', data: { id: 'b', host: 'b.local', port: 9292 } });
    a.role.start();
    b.role.start();
    await time.advance(0);

    groupA.isLeader = false;
    groupB.isLeader = true;
    await time.advance(0);

    expect([a.role.isActive, b.role.isActive]).toEqual([false, true]);
    expect(hub.commandHandlers).toHaveLength(1);
    const answer = await hub.connect().forward(createStream('orders'), 1000);
    expect(answer.kind).toBe('applied');
    expect(b.metadata.state.streams.has('orders')).toBe(true);
    expect(a.metadata.state.streams.has('orders')).toBe(false);
  });
});
