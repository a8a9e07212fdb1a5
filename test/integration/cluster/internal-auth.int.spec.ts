import { ErrorCode, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { encodeForwardedCommand, encodeJoinRequest } from '../../../src/adapters/codec/cluster-control-codec';
import { encodeRaftMessage } from '../../../src/adapters/codec/raft-message-codec';
import { decodeReplicationRequest } from '../../../src/adapters/codec/replication-codec';
import { MAC_BYTES } from '../../../src/adapters/outbound/nats/message-authenticator';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Authentication of internal traffic (docs/cluster.md "Authentication of internal traffic"): with `clustering.auth.secret` set, internal messages are signed, and a NATS client
 * without the secret cannot change cluster state: a forged ShrinkIsr or join request is never
 * answered nor applied, a forged Raft message is ignored, a flood of junk heartbeats costs a
 * counter and a few log lines. The cluster keeps replicating (AckPolicy ALL) and fails over.
 * Without a secret the same flood is rate-limited too.
 */
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==';
const FLOOD = 100_000;
const ids = ['a', 'b', 'c'];

let nats: TestNatsServer;
let raw: NatsConnection;
const namespace = `auth${Math.floor(Math.random() * 1e9)}`;
const subjects = new Subjects(namespace);
const servers = new Map<string, StartedTestBroker>();
const clients = new Map<string, ApiClient>();
const stopped = new Set<string>();
const extra: StartedTestBroker[] = [];

async function start(id: string): Promise<void> {
  const config = testBrokerConfig(nats.url, {
    clustering: { serverId: id, namespace, raftBootstrapSeed: id === 'a', authSecret: SECRET, replicaMaxLagTimeMs: 2000 },
    http: { host: '127.0.0.1', port: await freePort() },
  });
  servers.set(id, await startTestBroker(config));
  clients.set(id, connectClient(servers.get(id)!.address));
}

const client = (id: string): ApiClient => clients.get(id)!;
const live = (): string[] => ids.filter((id) => !stopped.has(id));
const controller = (): string => live().find((id) => servers.get(id)!.broker.metadataLog!.isLeader)!;

/** A server's drops of one kind, for one reason or (`'unverified'`) without a valid signature. */
async function dropped(server: StartedTestBroker, kind: string, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.broker.httpPort}/metrics`)).text();
  const sample = (r: string): number => {
    const series = `liftbridge_dropped_messages_total{kind="${kind}",reason="${r}"} `;
    const line = text.split('\n').find((l) => l.startsWith(series));
    return line === undefined ? 0 : Number(line.slice(series.length));
  };
  return reason === 'unverified' ? sample('unsigned') + sample('bad-signature') : sample(reason);
}

const partition = async (via: string, stream: string): Promise<api.PartitionMetadata> =>
  (await call(client(via).fetchMetadata, client(via), { streams: [stream] })).streamMetadata[0]!.partitions[0]!;

async function readyLeader(stream: string): Promise<string> {
  let leader = '';
  await waitFor(async () => {
    leader = (await partition(live()[0]!, stream)).leader;
    if (leader === '' || stopped.has(leader)) return false;
    return call(client(leader).fetchPartitionMetadata, client(leader), { stream, partition: 0 }).then(() => true, () => false);
  }, 15_000, `the leader of ${stream} to serve`);
  return leader;
}

async function publishAll(via: string, stream: string, values: string[]): Promise<bigint[]> {
  const offsets: bigint[] = [];
  for (const value of values) {
    const response = await call(client(via).publish, client(via), { stream, value: Buffer.from(value), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });
    offsets.push(response.ack!.offset);
  }
  return offsets;
}

/** A leader epoch as an attacker learns it: from a follower's fetch request seen on NATS. */
async function sniffLeaderEpoch(stream: string): Promise<number> {
  const seen: Uint8Array[] = [];
  const spy = raw.subscribe(subjects.replicate({ stream, partition: 0 }), { callback: (_e, m) => seen.push(m.data) });
  await waitFor(() => seen.length > 0, 10_000, 'a fetch request');
  spy.unsubscribe();
  const data = seen[0]!;
  try {
    return decodeReplicationRequest(data.subarray(0, data.length - MAC_BYTES)).leaderEpoch;
  } catch {
    return decodeReplicationRequest(data).leaderEpoch; // an unsigned cluster
  }
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  raw = await nats.connect();
  for (const id of ids) await start(id);
  await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
  await call(client('b').createStream, client('b'), { name: 'auth', subject: 'auth', replicationFactor: 3, minIsr: { value: 2 } });
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  for (const s of [...servers.values(), ...extra]) await s.destroy();
  await nats?.stop();
});

describe('a cluster with a secret', () => {
  let leader = '';
  const first = Array.from({ length: 20 }, (_, i) => `m${i}`);

  it('replicates with signed traffic: ALL publishes are acknowledged and every replica is in the ISR', async () => {
    leader = await readyLeader('auth');
    expect(await publishAll(leader, 'auth', first)).toEqual(first.map((_, i) => BigInt(i)));
    await waitFor(async () => (await partition(leader, 'auth')).isr.length === 3, 10_000, 'the full ISR');
  });

  it('neither answers nor applies a forged ShrinkIsr or join request sent over plain NATS', async () => {
    const follower = ids.find((id) => id !== leader)!;
    const leaderEpoch = await sniffLeaderEpoch('auth');
    const ctl = servers.get(controller())!;
    const [commandsBefore, joinsBefore] = [await dropped(ctl, 'forwarded-command', 'unverified'), await dropped(ctl, 'join', 'unverified')];
    const shrink = encodeForwardedCommand({ type: 'ShrinkIsr', data: { stream: 'auth', partition: 0, replica: follower, leader, leaderEpoch } });
    await expect(raw.request(subjects.metadataPropagate(), shrink, { timeout: 1000 })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    await expect(raw.request(subjects.metadataJoin(), encodeJoinRequest('intruder'), { timeout: 1000 })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(await dropped(ctl, 'forwarded-command', 'unverified')).toBe(commandsBefore + 1);
    expect(await dropped(ctl, 'join', 'unverified')).toBe(joinsBefore + 1);
    expect([...(await partition(leader, 'auth')).isr].sort()).toEqual(ids);
    for (const id of ids) expect([...servers.get(id)!.broker.metadataLog!.voters()].sort()).toEqual(ids);
  });

  it('ignores a forged Raft message with a higher term', async () => {
    const terms = ids.map((id) => servers.get(id)!.broker.metadataLog!.status()!.term);
    const ctl = controller();
    const target = ids.find((id) => id !== ctl)!;
    const term = Math.max(...terms) + 50;
    const before = await dropped(servers.get(target)!, 'raft', 'unverified');
    raw.publish(subjects.raftInbox(target), encodeRaftMessage({ type: 'AppendEntries', from: ctl, to: target, term, prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [] }));
    await raw.flush();
    await waitFor(async () => (await dropped(servers.get(target)!, 'raft', 'unverified')) === before + 1, 5000, 'the forged raft message counted');
    expect(ids.map((id) => servers.get(id)!.broker.metadataLog!.status()!.term)).toEqual(terms);
  });

  it(`turns ${FLOOD.toLocaleString('en')} one-byte heartbeats into a counter and a few log lines`, async () => {
    const target = servers.get('c')!;
    const linesBefore = target.logs.lines.length;
    const one = new Uint8Array([0x2a]);
    for (let i = 0; i < FLOOD; i++) raw.publish(subjects.heartbeats(), one);
    await raw.flush();
    await waitFor(async () => (await dropped(target, 'heartbeat', 'unsigned')) === FLOOD, 30_000, 'every junk heartbeat counted');
    const added = target.logs.lines.slice(linesBefore);
    expect(added.filter((l) => l['kind'] === 'heartbeat').length).toBeLessThanOrEqual(2);
    expect(JSON.stringify(added).length).toBeLessThan(20_000);
    // Still a working cluster.
    expect(await publishAll(leader, 'auth', ['after-flood'])).toEqual([BigInt(first.length)]);
  }, 60_000);

  it('fails over the partition leader and keeps acknowledging ALL publishes', async () => {
    const old = leader;
    stopped.add(old);
    await servers.get(old)!.stop();
    leader = await readyLeader('auth');
    expect(leader).not.toBe(old);
    expect(await publishAll(leader, 'auth', ['n0', 'n1'])).toEqual([BigInt(first.length + 1), BigInt(first.length + 2)]);
  }, 60_000);
});

describe('a server without a secret', () => {
  it(`logs ${FLOOD.toLocaleString('en')} malformed heartbeats in a few rate-limited lines and counts them all`, async () => {
    const server = await startTestBroker(testBrokerConfig(nats.url, { http: { host: '127.0.0.1', port: await freePort() } }));
    extra.push(server);
    const heartbeats = new Subjects(server.config.clustering.namespace).heartbeats();
    const linesBefore = server.logs.lines.length;
    const one = new Uint8Array([0x2a]);
    for (let i = 0; i < FLOOD; i++) raw.publish(heartbeats, one);
    await raw.flush();
    await waitFor(async () => (await dropped(server, 'heartbeat', 'malformed')) === FLOOD, 30_000, 'every malformed heartbeat counted');
    const added = server.logs.lines.slice(linesBefore);
    expect(added.filter((l) => l['msg'] === 'dropping malformed heartbeat').length).toBeLessThanOrEqual(2);
    expect(JSON.stringify(added).length).toBeLessThan(20_000);
    expect(server.logs.lines.some((l) => l['level'] === 40 && String(l['msg']).includes('clustering.auth.secret'))).toBe(true);
  }, 60_000);
});
