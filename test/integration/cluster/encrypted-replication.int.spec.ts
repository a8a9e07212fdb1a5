import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { MasterKey } from '../../../src/adapters/outbound/crypto/master-key';
import { ApiClient, call, connectClient, readValues } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * An encrypted stream replicated on three in-process servers with the same master key
 * (docs/encryption.md): the leader seals, followers store the sealed bytes as replicated (no
 * plaintext on any disk), a follower serves opened values (readISRReplica), and after the leader
 * stops without handing over, the new leader serves the values sealed by the old one.
 */
const KEY = 'cluster-master-key-of-32-bytes!!';
const ids = ['a', 'b', 'c'];
const namespace = `encr${Math.floor(Math.random() * 1e9)}`;
let nats: TestNatsServer;
const servers = new Map<string, StartedTestBroker>();
const clients = new Map<string, ApiClient>();
const stopped = new Set<string>();
const client = (id: string): ApiClient => clients.get(id)!;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  for (const id of ids) {
    const server = await startTestBroker(
      testBrokerConfig(nats.url, {
        clustering: { serverId: id, namespace, raftBootstrapSeed: id === 'a', replicaMaxLagTimeMs: 2000, brokerHeartbeatIntervalMs: 250, brokerTimeoutMs: 1500 },
        streams: { encryptionKey: MasterKey.fromString(KEY) },
      }),
    );
    servers.set(id, server);
    clients.set(id, connectClient(server.address));
  }
  await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  for (const s of servers.values()) await s.destroy();
  await nats?.stop();
});

/** The partition leader once its role runs and the server is not stopped. */
async function readyLeader(via: string, not?: string): Promise<string> {
  let leader = '';
  await waitFor(async () => {
    leader = (await call(client(via).fetchMetadata, client(via), { streams: ['sealed'] })).streamMetadata[0]?.partitions[0]?.leader ?? '';
    if (leader === '' || leader === not || stopped.has(leader)) return false;
    return call(client(leader).fetchPartitionMetadata, client(leader), { stream: 'sealed', partition: 0 }).then(() => true, () => false);
  }, 15_000, 'a serving leader');
  return leader;
}

const publish = (via: string, value: string): Promise<api.PublishResponse> =>
  call(client(via).publish, client(via), { stream: 'sealed', value: Buffer.from(value), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });

function onDisk(id: string, needle: string): boolean {
  const walk = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : fs.readFileSync(path.join(dir, e.name)).includes(needle)));
  return walk(servers.get(id)!.config.dataDir);
}

describe('an encrypted stream replicated on three servers', () => {
  const values = Array.from({ length: 20 }, (_, i) => `REPLICATED-SECRET-${i}`);
  let leader = '';

  it('is sealed by the leader and stored sealed on every replica; a follower serves the values opened', async () => {
    await call(client('b').createStream, client('b'), { name: 'sealed', subject: 'sealed', replicationFactor: 3, minIsr: { value: 2 }, encryption: { value: true } });
    leader = await readyLeader('b');
    for (const v of values) await publish(leader, v);
    for (const id of ids) {
      await waitFor(async () => {
        const meta = await call(client(id).fetchMetadata, client(id), { streams: ['sealed'] });
        return Number(meta.streamMetadata[0]!.partitions[0]!.newestOffset) === values.length - 1;
      }, 10_000, `${id} to hold every record`);
      for (const v of values) expect(onDisk(id, v)).toBe(false);
    }
    const follower = ids.find((id) => id !== leader)!;
    expect(await readValues(client(follower), { stream: 'sealed', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, values.length)).toEqual(values);
  });

  it('after the leader stops without handing over, the new leader serves the old leader\'s values and seals new ones', async () => {
    const old = leader;
    stopped.add(old);
    await servers.get(old)!.broker.stopNow();
    const survivor = ids.find((id) => id !== old)!;
    leader = await readyLeader(survivor, old);
    expect(leader).not.toBe(old);
    await publish(leader, 'AFTER-FAILOVER');
    expect(await readValues(client(leader), { stream: 'sealed', startPosition: api.StartPosition.EARLIEST }, values.length + 1)).toEqual([...values, 'AFTER-FAILOVER']);
    expect(onDisk(leader, 'AFTER-FAILOVER')).toBe(false);
  });
});
