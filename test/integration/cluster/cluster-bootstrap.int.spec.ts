import * as fs from 'node:fs';
import { Broker } from '../../../src/infrastructure/lifecycle/broker';
import { createLogger } from '../../../src/infrastructure/logging/create-logger';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { LogCapture, StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** Spec §6.3 bootstrap by named peers, and namespaces keeping clusters on one NATS apart. */
let nats: TestNatsServer;
const started: StartedTestBroker[] = [];
const clients: ApiClient[] = [];

const start = async (id: string, namespace: string, clustering: { raftBootstrapSeed?: boolean; raftBootstrapPeers?: string[] }) => {
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

describe('seed misconfiguration (spec §6.3 step 5)', () => {
  it('stops both servers when two are started with the seed flag in one namespace', async () => {
    const namespace = `seeds${Math.floor(Math.random() * 1e9)}`;
    const first = await start('s1', namespace, { raftBootstrapSeed: true });
    const second = testBrokerConfig(nats.url, { clustering: { serverId: 's2', namespace, raftBootstrapSeed: true } });
    const logs = new LogCapture();
    const broker = new Broker(second, createLogger('info', 'json', logs));
    const started = broker.start().catch((error: unknown) => error);
    const [firstFailure, secondFailure] = await Promise.all([first.server.broker.failed, broker.failed]);
    await started;
    expect(firstFailure.message).toContain('s2 was also started with raft.bootstrap.seed');
    expect(secondFailure.message).toContain('s1 was also started with raft.bootstrap.seed');
    expect(logs.lines.some((l) => l['msg'] === 'Server s1 was also started with raft.bootstrap.seed')).toBe(true);
    await broker.stop();
    fs.rmSync(second.dataDir, { recursive: true, force: true });
  });
});
