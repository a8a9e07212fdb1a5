import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, readValues, subscribe } from '../../support/api-calls';
import { InProcessCluster } from '../../support/in-process-cluster';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

/**
 * Partition replication between three in-process servers on a real nats-server (docs/replication.md): a
 * stream with replicationFactor 3 and minIsr 2, publishes acknowledged with AckPolicy ALL, reads
 * from followers (readISRReplica), a leader that stops, failover to an in-sync replica, and the
 * old leader catching up as a follower. (kill -9 cycles run against processes elsewhere.)
 */
let nats: TestNatsServer;
const namespace = `repl${Math.floor(Math.random() * 1e9)}`;
const ids = ['a', 'b', 'c'];
let cluster: InProcessCluster;

const client = (id: string): ApiClient => cluster.client(id);
const partitionMeta = async (via: string): Promise<api.PartitionMetadata> =>
  (await call(client(via).fetchMetadata, client(via), { streams: ['r'] })).streamMetadata[0]!.partitions[0]!;

/** The stream's partition leader, once its leader role runs (it answers FetchPartitionMetadata then, and listens). */
async function readyLeader(stream: string): Promise<string> {
  let leader = '';
  await waitFor(async () => {
    leader = (await call(client('a').fetchMetadata, client('a'), { streams: [stream] })).streamMetadata[0]?.partitions[0]?.leader ?? '';
    if (leader === '' || cluster.isStopped(leader)) return false;
    return call(client(leader).fetchPartitionMetadata, client(leader), { stream, partition: 0 }).then(() => true, () => false);
  }, 10_000, `the leader of ${stream} to serve`);
  return leader;
}

async function publishAll(via: string, values: string[]): Promise<bigint[]> {
  const offsets: bigint[] = [];
  for (const value of values) {
    const response = await call(client(via).publish, client(via), {
      stream: 'r',
      value: Buffer.from(value),
      ackPolicy: api.AckPolicy.ALL,
      expectedOffset: -1n,
    });
    offsets.push(response.ack!.offset);
  }
  return offsets;
}

const readAll = (via: string, count: number): Promise<string[]> =>
  readValues(client(via), { stream: 'r', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, count);

beforeAll(async () => {
  nats = await TestNatsServer.start();
  cluster = new InProcessCluster(nats.url, ids, namespace);
  await cluster.startAll();
  await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
  await nats?.stop();
});

describe('a partition replicated on three servers', () => {
  const first = Array.from({ length: 100 }, (_, i) => `m${i}`);
  let leader = '';

  it('acknowledges ALL publishes at consecutive offsets and every follower holds the same records', async () => {
    await call(client('b').createStream, client('b'), { name: 'r', subject: 'r', replicationFactor: 3, minIsr: { value: 2 } });
    leader = await readyLeader('r');
    const offsets = await publishAll(leader, first);
    expect(offsets).toEqual(first.map((_, i) => BigInt(i)));
    for (const id of ids) expect(await readAll(id, first.length)).toEqual(first);
    const meta = await partitionMeta(leader);
    expect([...meta.isr].sort()).toEqual(ids);
  });

  it('fails over to an in-sync replica when the leader stops, keeping every acknowledged record', async () => {
    const old = leader;
    await cluster.stop(old);
    const survivor = ids.find((id) => id !== old)!;
    await waitFor(async () => {
      const meta = await partitionMeta(survivor);
      return meta.leader !== old && !meta.isr.includes(old);
    }, 15_000, 'a new partition leader');
    leader = (await partitionMeta(survivor)).leader;
    // The new leader answers FetchPartitionMetadata once its leader role runs (it listens then).
    await waitFor(() => call(client(leader).fetchPartitionMetadata, client(leader), { stream: 'r', partition: 0 }).then(() => true, () => false), 10_000, 'the new leader to serve');
    const more = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const offsets = await publishAll(leader, more);
    expect(offsets).toEqual(more.map((_, i) => BigInt(first.length + i)));
    for (const id of ids.filter((i) => i !== old)) expect(await readAll(id, 150)).toEqual([...first, ...more]);

    // The old leader comes back as a follower, catches up and rejoins the ISR.
    await cluster.start(old);
    expect(await readAll(old, 150)).toEqual([...first, ...more]);
    await waitFor(async () => (await partitionMeta(leader)).isr.length === 3, 15_000, 'the old leader back in the ISR');
  });

  it('applies read-only, pause and retention on every replica', async () => {
    // The restarted server is reachable again (its heartbeats resumed) before streams are placed on it.
    await waitFor(async () => (await call(client('a').fetchMetadata, client('a'), {})).brokers.length === 3, 10_000, 'three reachable brokers');
    await call(client('a').createStream, client('a'), {
      name: 'flags',
      subject: 'flags',
      replicationFactor: 3,
      minIsr: { value: 2 },
      retentionMaxMessages: { value: 5n },
      segmentMaxBytes: { value: 1n }, // one message per segment, so whole segments can go
      cleanerInterval: { value: 50n },
    });
    const flagsLeader = await readyLeader('flags');
    for (let i = 0; i < 10; i++) {
      await call(client(flagsLeader).publish, client(flagsLeader), { stream: 'flags', value: Buffer.from(`f${i}`), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });
    }
    const live = cluster.live();
    // Retention: every replica deletes the same old segments, so EARLIEST starts at 5 everywhere.
    for (const id of live) {
      await waitFor(async () => {
        const sub = subscribe(client(id), { stream: 'flags', startPosition: api.StartPosition.EARLIEST, readISRReplica: true });
        const first = (await sub.waitFor(1, 5000))[0]!.offset;
        sub.cancel();
        await sub.done;
        return first === 5n;
      }, 10_000, `retention on ${id}`);
    }
    // Read-only: a subscriber on every replica ends at the end with Liftbridge's status (docs/protocol.md "Termination").
    const readers = live.map((id) => subscribe(client(id), { stream: 'flags', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }));
    for (const r of readers) await r.waitFor(5, 5000);
    await call(client('b').setStreamReadonly, client('b'), { name: 'flags', readonly: true });
    for (const r of readers) {
      const status = await r.done;
      expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(status.details).toBe('End of readonly partition');
    }
    // Pause (on a stream of its own: clearing read-only reaches each server's log a moment after its
    // metadata): the partition closes on every replica; subscribers end with FAILED_PRECONDITION.
    await call(client('a').createStream, client('a'), { name: 'paused', subject: 'paused', replicationFactor: 3, minIsr: { value: 2 } });
    const pausedLeader = await readyLeader('paused');
    await call(client(pausedLeader).publish, client(pausedLeader), { stream: 'paused', value: Buffer.from('p0'), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });
    const pausedReaders = live.map((id) => subscribe(client(id), { stream: 'paused', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }));
    for (const r of pausedReaders) await r.waitFor(1, 5000);
    await call(client('c').pauseStream, client('c'), { name: 'paused' });
    for (const r of pausedReaders) expect((await r.done).code).toBe(grpc.status.FAILED_PRECONDITION);
  });
});
