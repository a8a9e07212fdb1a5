import { BrokerHeartbeat, ClusterChannel } from '../../../../src/application/ports/cluster-channel.port';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, losingAnnouncements, startServer, TestServer, twoServers } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

const HEARTBEAT_MS = 1000;
const BROKER_TIMEOUT_MS = 5000;
const settings = { heartbeatIntervalMs: HEARTBEAT_MS, brokerTimeoutMs: BROKER_TIMEOUT_MS };

/** Controller "a" with brokers a and b registered; "b" is played by the test through its own channel. */
async function controllerWithBrokerB(
  wrapChannel?: (channel: ClusterChannel) => ClusterChannel,
): Promise<{ hub: InMemoryClusterHub; time: VirtualTime; a: TestServer; beatB: () => void }> {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const a = await startServer({
    hub, time, log: new InMemoryMetadataLog(), group: new FakeRaftGroup({ isLeader: true }), settings: { serverId: 'a', ...settings },
    ...(wrapChannel ? { wrapChannel } : {}),
  });
  for (const id of ['a', 'b']) await a.metadata.execute({ type: 'RegisterBroker', data: { id, host: `${id}.local`, port: 9292 } });
  const channelB = hub.connect();
  return { hub, time, a, beatB: () => channelB.announce({ id: 'b', host: 'b.local', port: 9292 }) };
}

const reachable = (server: TestServer, id: string): boolean | undefined => server.metadata.state.brokers.get(id)?.reachable;

describe('BrokerLiveness: heartbeats and the controller\'s verdicts', () => {
  it('announces this server at start and then every heartbeat interval', async () => {
    const { hub, time, a } = await controllerWithBrokerB();
    const beats: { atMs: number; beat: BrokerHeartbeat }[] = [];
    hub.heartbeats.subscribe((beat) => beats.push({ atMs: time.elapsedMs, beat }));

    a.liveness.start();
    await time.advance(3 * HEARTBEAT_MS);

    expect(beats.map((b) => b.atMs)).toEqual([0, 1000, 2000, 3000]);
    expect(beats[0]?.beat).toEqual({ id: 'a', host: 'localhost', port: 9292 });
  });

  it('marks a broker unreachable once it has been silent for longer than the broker timeout', async () => {
    const { time, a } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();

    await time.advance(BROKER_TIMEOUT_MS);
    expect(reachable(a, 'b')).toBe(true);

    await time.advance(HEARTBEAT_MS);
    expect(reachable(a, 'b')).toBe(false);
    expect(reachable(a, 'a')).toBe(true);
  });

  it('keeps a broker that heartbeats regularly reachable', async () => {
    const { time, a, beatB } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();

    for (let i = 0; i < 20; i++) {
      beatB();
      await time.advance(HEARTBEAT_MS);
    }

    expect(reachable(a, 'b')).toBe(true);
  });

  it('never judges itself, even when its own heartbeats are not heard', async () => {
    const { hub, time, a, beatB } = await controllerWithBrokerB(losingAnnouncements);
    const heard: string[] = [];
    hub.heartbeats.subscribe((beat) => heard.push(beat.id));
    a.liveness.start();
    a.liveness.becomeController();

    for (let i = 0; i < 4 * BROKER_TIMEOUT_MS / HEARTBEAT_MS; i++) {
      beatB();
      await time.advance(HEARTBEAT_MS);
    }

    expect(new Set(heard)).toEqual(new Set(['b']));
    expect(reachable(a, 'a')).toBe(true);
    expect(reachable(a, 'b')).toBe(true);
  });

  it('marks the broker reachable again once its heartbeats return', async () => {
    const { time, a, beatB } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();
    await time.advance(BROKER_TIMEOUT_MS + HEARTBEAT_MS);
    expect(reachable(a, 'b')).toBe(false);

    beatB();
    await time.advance(HEARTBEAT_MS);

    expect(reachable(a, 'b')).toBe(true);
    const changes = [...a.metadata.state.brokers.values()].map((b) => [b.id, b.reachable]);
    expect(changes).toEqual([['a', true], ['b', true]]);
  });

  it('a broker recorded unreachable with recent heartbeats (it vacated itself to shut down) stays so until it heartbeats again', async () => {
    const { time, a, beatB } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();
    beatB();
    await time.advance(HEARTBEAT_MS);
    await a.metadata.execute({ type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1' } });

    await time.advance(3 * HEARTBEAT_MS);
    expect(reachable(a, 'b')).toBe(false);

    beatB(); // restarted
    await time.advance(HEARTBEAT_MS);
    expect(reachable(a, 'b')).toBe(true);
  });

  it('an unreachable broker gets no new replicas (the verdict reaches placement)', async () => {
    const { time, a } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();
    await time.advance(BROKER_TIMEOUT_MS + HEARTBEAT_MS);

    const result = await a.gateway.execute(createStream('orders', { replicationFactor: 2 }));

    expect(result).toEqual({ ok: false, error: { kind: 'InvalidReplicationFactor', replicationFactor: 2, clusterSize: 1 } });
  });

  it('does not judge brokers unless it is the controller', async () => {
    const { time, a } = await controllerWithBrokerB();
    a.liveness.start();

    await time.advance(4 * BROKER_TIMEOUT_MS);

    expect(reachable(a, 'b')).toBe(true);
  });

  it('gives every broker a full timeout from the moment it becomes controller', async () => {
    const { time, a } = await controllerWithBrokerB();
    a.liveness.start();
    await time.advance(3 * BROKER_TIMEOUT_MS);

    a.liveness.becomeController();
    await time.advance(BROKER_TIMEOUT_MS);
    expect(reachable(a, 'b')).toBe(true);

    await time.advance(HEARTBEAT_MS);
    expect(reachable(a, 'b')).toBe(false);
  });

  it('stops judging when it resigns', async () => {
    const { time, a } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();
    await time.advance(2 * HEARTBEAT_MS);

    a.liveness.resignController();
    await time.advance(4 * BROKER_TIMEOUT_MS);

    expect(reachable(a, 'b')).toBe(true);
  });

  it('stops announcing and listening on stop()', async () => {
    const { hub, time, a } = await controllerWithBrokerB();
    a.liveness.start();
    a.liveness.becomeController();
    await time.advance(HEARTBEAT_MS);
    const beats: string[] = [];
    hub.heartbeats.subscribe((beat) => beats.push(beat.id));

    a.liveness.stop();
    await time.advance(4 * BROKER_TIMEOUT_MS);

    expect(beats).toEqual([]);
    expect(reachable(a, 'b')).toBe(true);
  });

  it('with the controller role: the controller judges, and the follower hears the verdict', async () => {
    const { a, b, time } = await twoServers({ settings });
    a.role.start();
    a.liveness.start();
    b.liveness.start();
    await time.advance(3 * BROKER_TIMEOUT_MS);
    expect([reachable(a, 'b'), reachable(b, 'b')]).toEqual([true, true]);

    b.liveness.stop();
    await time.advance(BROKER_TIMEOUT_MS + HEARTBEAT_MS);

    expect([reachable(a, 'b'), reachable(b, 'b')]).toEqual([false, false]);
    expect(reachable(a, 'a')).toBe(true);
  });
});
