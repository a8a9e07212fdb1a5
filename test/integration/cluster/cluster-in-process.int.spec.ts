import * as grpc from '@grpc/grpc-js';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Three in-process servers on one real nats-server: a seed, two that auto-join. Metadata commands
 * are accepted by every server (forwarded to the controller), placement spans the brokers, failure
 * detection and controller failover work. (The kill -9 cycles run against processes in
 * cluster-failover.int.spec.ts.)
 */
let nats: TestNatsServer;
const namespace = `ns${Math.floor(Math.random() * 1e9)}`;
const servers = new Map<string, StartedTestBroker>();
const clients = new Map<string, ApiClient>();

const config = (id: string, seed: boolean) =>
  testBrokerConfig(nats.url, { clustering: { serverId: id, namespace, raftBootstrapSeed: seed } });

async function start(id: string, seed = false, dataDir?: string): Promise<StartedTestBroker> {
  const cfg = config(id, seed);
  const server = await startTestBroker(dataDir ? { ...cfg, dataDir } : cfg);
  servers.set(id, server);
  stopped.delete(id);
  clients.get(id)?.close();
  clients.set(id, connectClient(server.address));
  return server;
}

const client = (id: string): ApiClient => clients.get(id)!;
const metadata = (id: string) => call(client(id).fetchMetadata, client(id), {});

beforeAll(async () => {
  nats = await TestNatsServer.start();
  await start('a', true);
  await start('b');
  await start('c');
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  for (const s of servers.values()) await s.destroy();
  await nats?.stop();
});

const stopped = new Set<string>();
const stop = async (id: string): Promise<void> => {
  stopped.add(id);
  await servers.get(id)!.stop();
};
const controllerId = (): string | undefined =>
  [...servers.entries()].find(([id, s]) => !stopped.has(id) && s.broker.metadataLog?.isLeader)?.[0];

describe('a three-server cluster', () => {
  it('forms one Raft group with every server voting and lists every broker everywhere', async () => {
    for (const id of ['a', 'b', 'c']) {
      await waitFor(async () => (await metadata(id)).brokers.length === 3, 10_000, `${id} to list three brokers`);
      expect(servers.get(id)!.broker.metadataLog!.voters()).toEqual(expect.arrayContaining(['a', 'b', 'c']));
    }
    expect(controllerId()).toBe('a');
  });

  it('accepts CreateStream on every server and places replicas across brokers', async () => {
    for (const id of ['a', 'b', 'c']) {
      await call(client(id).createStream, client(id), { name: `via-${id}`, subject: `via-${id}`, replicationFactor: 3 });
      // Read-your-writes on the server that took the request, then everywhere.
      const own = await call(client(id).fetchMetadata, client(id), { streams: [`via-${id}`] });
      expect(own.streamMetadata[0]!.partitions[0]!.replicas).toHaveLength(3);
    }
    for (const id of ['a', 'b', 'c']) {
      await waitFor(async () => (await metadata(id)).streamMetadata.length === 3, 5000, `${id} to list three streams`);
    }
    // Single-replica streams go to the least loaded brokers: three of them land on three brokers.
    for (let i = 0; i < 3; i++) await call(client('c').createStream, client('c'), { name: `one-${i}`, subject: `one-${i}` });
    const leaders = (await call(client('b').fetchMetadata, client('b'), { streams: ['one-0', 'one-1', 'one-2'] })).streamMetadata.map(
      (s) => s.partitions[0]!.leader,
    );
    expect(new Set(leaders).size).toBe(3);
  });

  it('relays the controller\'s refusals with their status codes', async () => {
    const tooMany = await call(client('b').createStream, client('b'), { name: 'rf4', subject: 'rf4', replicationFactor: 4 }).catch((e: grpc.ServiceError) => e);
    expect((tooMany as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    const exists = await call(client('c').createStream, client('c'), { name: 'via-a', subject: 'via-a' }).catch((e: grpc.ServiceError) => e);
    expect((exists as grpc.ServiceError).code).toBe(grpc.status.ALREADY_EXISTS);
    const missing = await call(client('b').deleteStream, client('b'), { name: 'nope' }).catch((e: grpc.ServiceError) => e);
    expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });

  it('records a silent broker as unreachable and lists it again when it is back', async () => {
    const c = servers.get('c')!;
    const dataDir = c.config.dataDir;
    await stop('c');
    await waitFor(async () => (await metadata('a')).brokers.length === 2, 10_000, 'the controller to drop c');
    await start('c', false, dataDir);
    await waitFor(async () => (await metadata('b')).brokers.length === 3, 10_000, 'c to be listed again');
  });

  it('elects a new controller when the controller stops, and metadata requests succeed again', async () => {
    const old = controllerId()!;
    const survivor = ['a', 'b', 'c'].find((id) => id !== old)!;
    const dataDir = servers.get(old)!.config.dataDir;
    const stoppedAt = Date.now();
    await stop(old);
    await waitFor(() => controllerId() !== undefined && controllerId() !== old, 10_000, 'a new controller');
    const failoverMs = Date.now() - stoppedAt;
    await call(client(survivor).createStream, client(survivor), { name: 'after-failover', subject: 'after-failover', replicationFactor: 2 });
    expect(failoverMs).toBeLessThan(10_000);
    await start(old, false, dataDir);
    await waitFor(async () => (await metadata(old)).streamMetadata.some((s) => s.name === 'after-failover'), 10_000, `${old} to catch up`);
  });
});
