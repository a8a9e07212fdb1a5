import { JOIN_ATTEMPTS, JoinFailedError } from '../../../../src/application/cluster/cluster-membership';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { FakeRaftGroup, FollowerMetadataLog, startServer, TestServer } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** Server "b", with no Raft state, about to join; the controller is played by the test or by a real ControllerRole. */
async function joiner(voters: readonly string[] = []): Promise<{
  hub: InMemoryClusterHub; time: VirtualTime; group: FakeRaftGroup; b: TestServer; requests: string[];
}> {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: false, voters });
  const b = await startServer({ hub, time, log: new FollowerMetadataLog(new InMemoryMetadataLog(), true), group, settings: { serverId: 'b' } });
  return { hub, time, group, b, requests: [] };
}

function track(promise: Promise<void>): { readonly settled: () => boolean; readonly promise: Promise<void> } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  return { settled: () => settled, promise: tracked };
}

describe('ClusterMembership: joining the metadata group', () => {
  it('makes 30 attempts by default', () => {
    expect(JOIN_ATTEMPTS).toBe(30);
  });

  it('asks nobody when this server already votes', async () => {
    const { hub, b, requests } = await joiner(['a', 'b']);
    await hub.connect().serveJoins(async (id) => {
      requests.push(id);
      return '';
    });

    await b.membership.join();

    expect(requests).toEqual([]);
  });

  it('joins with one request when the controller accepts', async () => {
    const { hub, b, requests } = await joiner(['a']);
    await hub.connect().serveJoins(async (id) => {
      requests.push(id);
      return '';
    });

    await b.membership.join();

    expect(requests).toEqual(['b']);
  });

  it('retries one second apart while no controller answers, and joins once one appears', async () => {
    const { hub, time, b, requests } = await joiner(['a']);
    const join = track(b.membership.join());
    await time.advance(1999);
    expect(join.settled()).toBe(false);

    await hub.connect().serveJoins(async (id) => {
      requests.push(id);
      return '';
    });
    await time.advance(1);

    await join.promise;
    expect(requests).toEqual(['b']);
    expect(time.elapsedMs).toBe(2000);
  });

  it('retries while the controller answers with an error, then fails with JoinFailedError carrying the last error', async () => {
    const { hub, time, b, requests } = await joiner(['a']);
    await hub.connect().serveJoins(async (id) => {
      requests.push(id);
      return `refused #${requests.length}`;
    });

    const join = track(b.membership.join(3));
    await time.advance(1999);
    expect(join.settled()).toBe(false);
    await time.advance(1);

    await expect(join.promise).rejects.toBeInstanceOf(JoinFailedError);
    await expect(join.promise).rejects.toThrow('failed to join metadata Raft group after 3 attempts: refused #3');
    expect(requests).toEqual(['b', 'b', 'b']);
  });

  it('gives up after the default 30 attempts, 29 s after the first, when no controller ever answers', async () => {
    const { time, b } = await joiner(['a']);

    const join = track(b.membership.join());
    await time.advance(28_999);
    expect(join.settled()).toBe(false);
    await time.advance(1);

    await expect(join.promise).rejects.toThrow(/after 30 attempts: no controller answered: no responders/);
  });

  it('stops asking once another path made this server a voter', async () => {
    const { hub, time, group, b, requests } = await joiner(['a']);
    await hub.connect().serveJoins(async (id) => {
      requests.push(id);
      return 'busy';
    });

    const join = track(b.membership.join(5));
    await time.advance(0);
    group.voterIds.push('b');
    await time.advance(1000);

    await join.promise;
    expect(requests).toEqual(['b']);
  });

  it('does not retry an error that is not ControllerUnreachableError', async () => {
    const { hub, time, b } = await joiner(['a']);
    let calls = 0;
    await hub.connect().serveJoins(async () => {
      calls++;
      throw new Error('channel broken');
    });

    const join = track(b.membership.join());
    await time.advance(0);

    expect(join.settled()).toBe(true);
    await expect(join.promise).rejects.toThrow('channel broken');
    expect(calls).toBe(1);
  });

  it('joins through a real controller, which adds the server as a voter', async () => {
    const { hub, time, b } = await joiner(['a']);
    const controllerGroup = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] });
    const a = await startServer({ hub, time, log: new InMemoryMetadataLog(), group: controllerGroup, settings: { serverId: 'a' } });
    a.role.start();
    await time.advance(0);

    await b.membership.join();

    expect(controllerGroup.voters()).toEqual(['a', 'b']);
  });
});
