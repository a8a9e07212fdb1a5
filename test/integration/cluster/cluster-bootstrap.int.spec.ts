import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** docs/cluster.md "Start-up": bootstrap by named peers, and namespaces keeping clusters on one NATS apart. */
let nats: TestNatsServer;
const started: StartedTestBroker[] = [];
const clients: ApiClient[] = [];

const start = async (id: string, namespace: string, clustering: { raftBootstrapSeed?: boolean; raftBootstrapPeers?: string[]; authSecret?: string }) => {
  const server = await startTestBroker(testBrokerConfig(nats.url, { clustering: { serverId: id, namespace, raftBootstrapSeed: false, ...clustering } }));
  started.push(server);
  const client = connectClient(server.address);
  clients.push(client);
  return { server, client };
};

beforeAll(async () => {
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of started) await s.destroy();
  await nats?.stop();
});

describe('cluster bootstrap', () => {
  it('forms a cluster from --raft-bootstrap-peers started together', async () => {
    const namespace = `peers${Math.floor(Math.random() * 1e9)}`;
    const peers = ['p1', 'p2', 'p3'];
    // Each waits for a quorum before it registers, so they must start concurrently.
    const nodes = await Promise.all(peers.map((id) => start(id, namespace, { raftBootstrapPeers: peers.filter((p) => p !== id) })));
    for (const { server } of nodes) expect([...server.broker.metadataLog!.voters()].sort()).toEqual(peers);
    expect(nodes.filter(({ server }) => server.broker.metadataLog!.isLeader)).toHaveLength(1);
    await call(nodes[2]!.client.createStream, nodes[2]!.client, { name: 'peers-stream', subject: 'peers-stream', replicationFactor: -1 });
    for (const { client } of nodes) {
      await waitFor(async () => {
        const m = await call(client.fetchMetadata, client, { streams: ['peers-stream'] });
        return m.brokers.length === 3 && m.streamMetadata[0]?.partitions[0]?.replicas.length === 3;
      }, 5000, 'every server to list the stream on all three brokers');
    }
  });

  it('keeps two clusters with the same server ids apart by namespace', async () => {
    const x = await start('a', `x${Math.floor(Math.random() * 1e9)}`, { raftBootstrapSeed: true });
    const y = await start('a', `y${Math.floor(Math.random() * 1e9)}`, { raftBootstrapSeed: true });
    await call(x.client.createStream, x.client, { name: 'only-in-x', subject: 'only-in-x' });
    await call(y.client.createStream, y.client, { name: 'only-in-y', subject: 'only-in-y' });
    const mx = await call(x.client.fetchMetadata, x.client, {});
    const my = await call(y.client.fetchMetadata, y.client, {});
    expect(mx.streamMetadata.map((s) => s.name)).toEqual(['only-in-x']);
    expect(my.streamMetadata.map((s) => s.name)).toEqual(['only-in-y']);
    expect(mx.brokers).toHaveLength(1);
    expect(my.brokers).toHaveLength(1);
    expect(x.server.broker.metadataLog!.isLeader && y.server.broker.metadataLog!.isLeader).toBe(true);
  });
});

describe('seed misconfiguration (docs/cluster.md "Start-up")', () => {
  const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==';

  it('keeps both servers serving and reports the other seed in readiness when two are started with the seed flag in one namespace', async () => {
    const namespace = `seeds${Math.floor(Math.random() * 1e9)}`;
    const first = await start('s1', namespace, { raftBootstrapSeed: true });
    const second = await start('s2', namespace, { raftBootstrapSeed: true });
    await waitFor(() => !first.server.broker.readiness().checks['bootstrap'] && !second.server.broker.readiness().checks['bootstrap'], 5000, 'both seeds to report the conflict');
    expect(first.server.broker.readiness().reasons).toContain(`bootstrap: server s2 also announces itself as a bootstrap seed in namespace ${namespace}`);
    expect(second.server.broker.readiness().reasons).toContain(`bootstrap: server s1 also announces itself as a bootstrap seed in namespace ${namespace}`);
    expect(first.server.logs.lines.filter((l) => l['msg'] === 'Server s2 was also started with raft.bootstrap.seed')).toHaveLength(1);
    expect(second.server.logs.lines.filter((l) => l['msg'] === 'Server s1 was also started with raft.bootstrap.seed')).toHaveLength(1);
    // Neither stopped: each still answers requests (its own cluster of one).
    for (const [{ client }, name] of [[first, 'still-s1'], [second, 'still-s2']] as const) {
      await call(client.createStream, client, { name, subject: name });
    }
  });

  it('with a cluster secret, hears a seed signed with the same secret and refuses one signed with another', async () => {
    const namespace = `signedseeds${Math.floor(Math.random() * 1e9)}`;
    const first = await start('s1', namespace, { raftBootstrapSeed: true, authSecret: SECRET });
    const stranger = await start('s3', namespace, { raftBootstrapSeed: true, authSecret: `${SECRET}-other` });
    await waitFor(
      () => first.server.logs.lines.some((l) => l['kind'] === 'seed-announcement' && l['reason'] === 'bad-signature'),
      5000,
      'the stranger\'s announcement refused',
    );
    expect(first.server.broker.readiness().checks['bootstrap']).toBe(true);
    expect(stranger.server.broker.readiness().checks['bootstrap']).toBe(true);
    const second = await start('s2', namespace, { raftBootstrapSeed: true, authSecret: SECRET });
    await waitFor(() => !first.server.broker.readiness().checks['bootstrap'] && !second.server.broker.readiness().checks['bootstrap'], 5000, 'the signed seeds to hear each other');
    expect(first.server.broker.readiness().reasons).toContainEqual(expect.stringContaining('bootstrap: server s2'));
  });
});
