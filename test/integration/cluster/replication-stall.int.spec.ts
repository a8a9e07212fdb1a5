import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * Partition replication with stalled servers (SIGSTOP/SIGCONT) against real processes: a stalled follower leaves the
 * ISR after replica.max.lag.time; ALL publishes go on while the ISR meets minIsr and stop when it
 * does not; the follower catches up and rejoins after SIGCONT. A stalled partition leader is
 * replaced, and when it wakes up it acknowledges nothing.
 */
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];

let nats: TestNatsServer;
let nc: NatsConnection;
const namespace = `st${Math.floor(Math.random() * 1e9)}`;
const dirs = new Map<Id, string>();
const ports = new Map<Id, number>();
const running = new Map<Id, BrokerProcess>();
const clients = new Map<Id, ApiClient>();
const stalled = new Set<Id>();
const env = {
  ...process.env,
  LIFTBRIDGE_CLUSTERING_BROKER_TIMEOUT: '1500ms',
  LIFTBRIDGE_CLUSTERING_BROKER_HEARTBEAT_INTERVAL: '250ms',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: '2s',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_IDLE_WAIT: '500ms',
};

const args = (id: Id): string[] => [
  '--id', id, '--namespace', namespace, '--data-dir', dirs.get(id)!, '--port', String(ports.get(id)!), '--nats-servers', nats.url,
  ...(id === 'a' ? ['--raft-bootstrap-seed'] : []),
];

const awake = (): Id[] => ids.filter((id) => !stalled.has(id));
const client = (id: Id): ApiClient => clients.get(id)!;

async function meta(stream: string): Promise<api.PartitionMetadata> {
  for (const id of awake()) {
    try {
      const m = await call(client(id).fetchMetadata, client(id), { streams: [stream] }, 1000);
      if (m.streamMetadata[0]?.partitions[0]) return m.streamMetadata[0].partitions[0];
    } catch {
      // next server
    }
  }
  throw new Error('no server answered');
}

const publishAll = (via: Id, stream: string, value: string, timeoutMs = 2000) =>
  call(client(via).publish, client(via), { stream, value: Buffer.from(value), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n }, timeoutMs);

const signal = (id: Id, sig: NodeJS.Signals): void => {
  process.kill(running.get(id)!.pid, sig);
  if (sig === 'SIGSTOP') stalled.add(id);
  else stalled.delete(id);
};

beforeAll(async () => {
  nats = await TestNatsServer.start();
  nc = await connect({ servers: nats.url });
  for (const id of ids) {
    dirs.set(id, fs.mkdtempSync(path.join(os.tmpdir(), `lbts-stall-${id}-`)));
    ports.set(id, await freePort());
  }
  for (const id of ids) {
    running.set(id, await BrokerProcess.start(args(id), ports.get(id)!, env));
    clients.set(id, connectClient(running.get(id)!.address));
  }
  await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 15_000, 'three brokers');
}, 60_000);

afterAll(async () => {
  for (const id of [...stalled]) signal(id, 'SIGCONT');
  for (const c of clients.values()) c.close();
  await nc?.close();
  for (const p of running.values()) await p.kill();
  await nats?.stop();
  for (const dir of dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

describe('stalled servers', () => {
  it('shrinks the ISR around a stalled follower, honours minIsr, and re-admits it after SIGCONT', async () => {
    await call(client('a').createStream, client('a'), { name: 'm2', subject: 'm2', replicationFactor: 3, minIsr: { value: 2 } });
    await call(client('a').createStream, client('a'), { name: 'm3', subject: 'm3', replicationFactor: 3, minIsr: { value: 3 } });
    const leaders = new Set([(await meta('m2')).leader, (await meta('m3')).leader]);
    const follower = ids.find((id) => !leaders.has(id))!;
    const via = ids.find((id) => id !== follower)!;
    await publishAll(via, 'm2', 'before');
    await publishAll(via, 'm3', 'before');

    signal(follower, 'SIGSTOP');
    await waitFor(async () => !(await meta('m2')).isr.includes(follower) && !(await meta('m3')).isr.includes(follower), 20_000, `${follower} to leave both ISRs`);
    // ISR of 2 meets minIsr 2: ALL publishes go on; it does not meet minIsr 3: nothing commits.
    expect((await publishAll(via, 'm2', 'during')).ack!.offset).toBe(1n);
    const refused = await publishAll(via, 'm3', 'during', 1500).catch((e: grpc.ServiceError) => e);
    expect((refused as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);

    signal(follower, 'SIGCONT');
    await waitFor(async () => (await meta('m2')).isr.includes(follower) && (await meta('m3')).isr.includes(follower), 20_000, `${follower} to rejoin both ISRs`);
    // The record that could not commit while the ISR was too small commits now (offset 1), then this one.
    expect((await publishAll(via, 'm3', 'after')).ack!.offset).toBe(2n);
    const sub = subscribe(client(follower), { stream: 'm2', startPosition: api.StartPosition.EARLIEST, readISRReplica: true });
    const values = (await sub.waitFor(2, 10_000)).map((m) => Buffer.from(m.value).toString());
    sub.cancel();
    await sub.done;
    expect(values).toEqual(['before', 'during']);
  });

  it('a stalled partition leader that wakes up after it was replaced acknowledges nothing', async () => {
    await call(client('a').createStream, client('a'), { name: 'p', subject: 'p', replicationFactor: 3, minIsr: { value: 2 } });
    const old = (await meta('p')).leader as Id;
    const inbox = `acks.${namespace}`;
    const acks: api.Ack[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, msg) => acks.push(decodeAckEnvelope(msg.data)) });
    await nc.flush();
    let n = 0;
    const publishRaw = (policy: api.AckPolicy): void => {
      const value = `raw-${n++}`;
      nc.publish('p', encodePublishEnvelope({ key: null, value: Buffer.from(value), headers: null, ackInbox: inbox, correlationId: value, ackPolicy: policy, expectedOffset: -1 }));
    };

    signal(old, 'SIGSTOP');
    // While it sleeps: the controller replaces it; raw publishes reach the new leader and queue up for the old one.
    const pump = setInterval(() => {
      publishRaw(api.AckPolicy.LEADER);
      publishRaw(api.AckPolicy.ALL);
    }, 20);
    try {
      await waitFor(async () => (await meta('p')).leader !== old, 15_000, 'a new leader');
      const newLeader = (await meta('p')).leader as Id;
      await waitFor(() => acks.length > 20, 10_000, 'acks from the new leader');
      signal(old, 'SIGCONT');
      // The old leader learns it was replaced and follows; give it time to act on what it queued.
      await waitFor(async () => {
        const m = await call(client(old).fetchPartitionMetadata, client(old), { stream: 'p', partition: 0 }, 1000).catch((e: grpc.ServiceError) => e);
        return (m as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION;
      }, 15_000, 'the old leader to step down');
      await waitFor(async () => (await meta('p')).isr.includes(old), 20_000, 'the old leader back in the ISR as a follower');
      clearInterval(pump);
      await nc.flush();

      // Every ack names the offset where the current log holds that very message: none came from the old leader's own log.
      const positions = async () => (await call(client(newLeader).fetchPartitionMetadata, client(newLeader), { stream: 'p', partition: 0 })).metadata!;
      await waitFor(async () => {
        const m = await positions();
        return m.highWatermark === m.newestOffset;
      }, 10_000, 'everything published to be committed');
      const hw = Number((await positions()).highWatermark);
      const read = subscribe(client(newLeader), { stream: 'p', startPosition: api.StartPosition.EARLIEST });
      const messages = await read.waitFor(hw + 1, 15_000);
      read.cancel();
      await read.done;
      const valueAt = new Map(messages.map((m) => [Number(m.offset), Buffer.from(m.value).toString()]));
      for (const ack of acks) expect(valueAt.get(Number(ack.offset))).toBe(ack.correlationId);
      if (process.env.DUMP_OLD_LEADER) console.log(running.get(old)!.logs.split('\n').filter((l) => /revalidat|holding|truncat|controller|silence/.test(l)).join('\n'));
      expect(acks.length).toBeGreaterThan(20);
    } finally {
      clearInterval(pump);
      sub.unsubscribe();
    }
  });
});
