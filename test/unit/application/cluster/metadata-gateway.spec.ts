import { MetadataTimeoutError } from '../../../../src/application/metadata/metadata-service';
import { NotMetadataLeaderError } from '../../../../src/application/ports/metadata-log.port';
import { MetadataProposal } from '../../../../src/domain/metadata/metadata-proposal';
import { ForwardedAnswer } from '../../../../src/application/ports/cluster-channel.port';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, FollowerMetadataLog, startServer, twoServers } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** Starts `execute` and reports whether it settled, without awaiting it. */
function track<T>(promise: Promise<T>): { readonly settled: () => boolean; readonly promise: Promise<T> } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  return { settled: () => settled, promise: tracked };
}

describe('MetadataGateway: commands entering on a follower are executed by the controller', () => {
  it('executes CreateStream sent to the follower on the controller, and both servers then hold the stream', async () => {
    const { a, b, leaderLog } = await twoServers();
    a.role.start();
    await Promise.resolve();

    const result = await b.gateway.execute(createStream('orders', { replicationFactor: 2 }));

    expect(result.ok && result.value.map((e) => e.type)).toEqual(['StreamCreated', 'PartitionCreated']);
    // The proposal was decided and proposed by "a" (proposal ids carry the deciding server's id).
    expect(leaderLog.stored.at(-1)?.proposalId).toMatch(/^a:/);
    expect(a.metadata.state.streams.get('orders')?.partitions[0]?.replicas).toEqual(['a', 'b']);
    expect(b.metadata.state.streams.get('orders')?.partitions[0]?.replicas).toEqual(['a', 'b']);
    expect(b.metadata.state.lastAppliedIndex).toBe(a.metadata.state.lastAppliedIndex);
  });

  it('relays StreamAlreadyExists from the controller unchanged', async () => {
    const { a, b } = await twoServers();
    a.role.start();
    await Promise.resolve();
    expect((await b.gateway.execute(createStream('orders'))).ok).toBe(true);
    const indexBefore = a.metadata.state.lastAppliedIndex;

    const again = await b.gateway.execute(createStream('orders'));

    expect(again).toEqual({ ok: false, error: { kind: 'StreamAlreadyExists', stream: 'orders' } });
    expect(a.metadata.state.lastAppliedIndex).toBe(indexBefore);
  });

  it('relays InvalidReplicationFactor with the controller\'s cluster size', async () => {
    const { a, b } = await twoServers();
    a.role.start();
    await Promise.resolve();

    const result = await b.gateway.execute(createStream('orders', { replicationFactor: 3 }));

    expect(result).toEqual({ ok: false, error: { kind: 'InvalidReplicationFactor', replicationFactor: 3, clusterSize: 2 } });
    expect(a.metadata.state.streams.has('orders')).toBe(false);
  });

  it('on the leader runs the command locally, without any controller serving the channel', async () => {
    const { a, hub } = await twoServers();
    expect(hub.commandHandlers).toHaveLength(0);

    const result = await a.gateway.execute(createStream('orders'));

    expect(result.ok).toBe(true);
    expect(a.metadata.state.streams.has('orders')).toBe(true);
  });

  it('answers only after the follower has applied the controller\'s index (read-your-writes)', async () => {
    const { a, b, time, followerLog } = await twoServers({ autoDeliver: false });
    a.role.start();
    await Promise.resolve();

    const call = track(b.gateway.execute(createStream('orders')));
    await time.advance(10);

    expect(a.metadata.state.streams.has('orders')).toBe(true);
    expect(call.settled()).toBe(false);
    expect(followerLog.heldEntries).toBe(1);

    followerLog.deliver();
    const result = await call.promise;
    expect(result.ok).toBe(true);
    expect(b.metadata.state.streams.has('orders')).toBe(true);
  });

  it('throws MetadataTimeoutError when the follower never catches up with the controller', async () => {
    const { a, b, time } = await twoServers({ autoDeliver: false });
    a.role.start();
    await Promise.resolve();

    const call = track(b.gateway.execute(createStream('orders'), 1000));
    await time.advance(999);
    expect(call.settled()).toBe(false);
    await time.advance(1);

    await expect(call.promise).rejects.toBeInstanceOf(MetadataTimeoutError);
    expect(b.metadata.state.streams.has('orders')).toBe(false);
  });

  it('throws MetadataTimeoutError at once when the local state stops while waiting for the applied index', async () => {
    const { a, b, time } = await twoServers({ autoDeliver: false });
    a.role.start();
    await Promise.resolve();
    const call = track(b.gateway.execute(createStream('orders'), 1000));
    await time.advance(1);

    await b.metadata.stop();

    await expect(call.promise).rejects.toBeInstanceOf(MetadataTimeoutError);
    expect(time.elapsedMs).toBe(1);
  });

  it('retries while no controller answers, and succeeds once one takes over', async () => {
    const { a, b, time } = await twoServers();
    const call = track(b.gateway.execute(createStream('orders'), 5000));
    await time.advance(450);
    expect(call.settled()).toBe(false);

    a.role.start();
    await time.advance(100);

    const result = await call.promise;
    expect(result.ok).toBe(true);
    expect(b.metadata.state.streams.has('orders')).toBe(true);
  });

  it('throws MetadataTimeoutError after the timeout when no controller ever answers', async () => {
    const { b, time } = await twoServers();

    const call = track(b.gateway.execute(createStream('orders'), 2000));
    await time.advance(1999);
    expect(call.settled()).toBe(false);
    await time.advance(1);

    await expect(call.promise).rejects.toThrow(new MetadataTimeoutError(2000).message);
  });

  it('uses the configured metadata timeout by default', async () => {
    const { b, time } = await twoServers({ settings: { metadataTimeoutMs: 700 } });

    const call = track(b.gateway.execute(createStream('orders')));
    await time.advance(699);
    expect(call.settled()).toBe(false);
    await time.advance(1);

    await expect(call.promise).rejects.toBeInstanceOf(MetadataTimeoutError);
  });

  it('retries "unavailable" answers, pausing between attempts, until the controller applies the command', async () => {
    const { b, hub, time } = await twoServers();
    const seen: MetadataCommand[] = [];
    await hub.connect().serveCommands(async (command): Promise<ForwardedAnswer> => {
      seen.push(command);
      return seen.length < 3 ? { kind: 'unavailable', reason: 'electing' } : { kind: 'applied', events: [], index: 0 };
    });

    const call = track(b.gateway.execute(createStream('orders')));
    await time.advance(199);
    expect(call.settled()).toBe(false);
    await time.advance(1);

    expect(await call.promise).toEqual({ ok: true, value: [] });
    expect(seen.map((c) => c.type)).toEqual(['CreateStream', 'CreateStream', 'CreateStream']);
  });

  it('does not retry a channel failure that is not ControllerUnreachableError', async () => {
    const { b, hub, time } = await twoServers();
    let calls = 0;
    await hub.connect().serveCommands(async () => {
      calls++;
      throw new Error('channel broken');
    });

    const call = track(b.gateway.execute(createStream('orders')));
    await time.advance(0);

    expect(call.settled()).toBe(true);
    await expect(call.promise).rejects.toThrow('channel broken');
    expect(calls).toBe(1);
  });

  it('never forwards when this server is the leader, even if another server serves commands', async () => {
    const hub = new InMemoryClusterHub();
    const time = new VirtualTime();
    let forwarded = 0;
    await hub.connect().serveCommands(async () => {
      forwarded++;
      return { kind: 'unavailable', reason: 'should not be asked' };
    });
    const a = await startServer({ hub, time, log: new InMemoryMetadataLog(), group: new FakeRaftGroup({ isLeader: true }), settings: { serverId: 'a' } });
    await a.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 1 } });

    expect((await a.gateway.execute(createStream('orders'))).ok).toBe(true);
    expect(forwarded).toBe(0);
  });

  it('a follower without any leader log still forwards (FollowerMetadataLog never proposes)', async () => {
    const hub = new InMemoryClusterHub();
    const time = new VirtualTime();
    await hub.connect().serveCommands(async () => ({ kind: 'refused', error: { kind: 'NoBrokers' } }));
    const b = await startServer({ hub, time, log: new FollowerMetadataLog(new InMemoryMetadataLog(), true), group: new FakeRaftGroup({ isLeader: false }) });

    expect(await b.gateway.execute(createStream('orders'))).toEqual({ ok: false, error: { kind: 'NoBrokers' } });
  });

  it('retries locally when the leader lost leadership while proposing (NotMetadataLeaderError)', async () => {
    /** Leads, but its first proposal finds that leadership has just moved on. */
    class DeposedOnceLog extends InMemoryMetadataLog {
      rejections = 0;
      override async propose(proposal: MetadataProposal): Promise<void> {
        if (this.rejections++ === 0) throw new NotMetadataLeaderError(null);
        return super.propose(proposal);
      }
    }
    const hub = new InMemoryClusterHub();
    const time = new VirtualTime();
    const log = new DeposedOnceLog([{ proposalId: 'seed', events: [{ type: 'BrokerRegistered', data: { id: 'a', host: 'a.local', port: 1 } }], expectations: [] }]);
    const a = await startServer({ hub, time, log, group: new FakeRaftGroup({ isLeader: true }), settings: { serverId: 'a' } });

    const call = track(a.gateway.execute(createStream('orders')));
    await time.advance(99);
    expect(call.settled()).toBe(false);
    await time.advance(1);

    expect((await call.promise).ok).toBe(true);
    expect(log.rejections).toBe(2);
    expect(a.metadata.state.streams.has('orders')).toBe(true);
  });

  it('does not retry a local failure that is not NotMetadataLeaderError', async () => {
    const { a, leaderLog, time } = await twoServers();
    await leaderLog.close();

    const call = track(a.gateway.execute(createStream('orders')));
    await time.advance(0);

    expect(call.settled()).toBe(true);
    await expect(call.promise).rejects.toThrow('metadata log is closed');
  });
});
