/**
 * A full disk under a partition leader of a three-server cluster (docs/reliability.md "Scenarios",
 * scenario 25: "a leader that cannot write stops acking and gives up leadership"). Each
 * server keeps its data (commit logs and the metadata Raft log) on its own small tmpfs; the
 * leader's fills up while AckPolicy ALL publishes go on. Wanted: the leadership moves to an
 * in-sync replica within seconds and publishes are acknowledged there, every publisher gets an
 * answer meanwhile, and once space returns the old leader recovers by itself, catches up and
 * rejoins the ISR, with every acknowledged message readable.
 *
 * Needs root (mount -t tmpfs): this suite fails, saying so, where it cannot mount.
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { call, readValues } from '../../support/api-calls';
import { InProcessCluster } from '../../support/in-process-cluster';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { fillDisk, mountTmpfs, unmountTmpfs } from '../../support/tmpfs';

const TMPFS_BYTES = 24 * 1024 * 1024;
const VALUE_BYTES = 8 * 1024;
/** Leadership moves, and an ALL publish is acknowledged by the new leader, within this long. */
const HAND_OVER_WITHIN_MS = 10_000;
/** The old leader is back in the ISR within this long of space returning. */
const REJOIN_WITHIN_MS = 30_000;
const ids = ['a', 'b', 'c'];

describe('a full disk under a partition leader of a three-server cluster', () => {
  const mounts = new Map<string, string>();
  let nats: TestNatsServer;
  let cluster: InProcessCluster;

  beforeAll(async () => {
    for (const id of ids) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lbts-full-${id}-`));
      mountTmpfs(dir, TMPFS_BYTES);
      mounts.set(id, dir);
    }
    nats = await TestNatsServer.start();
    cluster = new InProcessCluster(nats.url, ids, `full${Math.floor(Math.random() * 1e9)}`, 2000, undefined, (id) => path.join(mounts.get(id)!, 'data'));
    await cluster.startAll();
    await waitFor(async () => (await call(cluster.client('c').fetchMetadata, cluster.client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
    await nats?.stop();
    for (const dir of mounts.values()) unmountTmpfs(dir);
  });

  const partition = async (via: string): Promise<api.PartitionMetadata> =>
    (await call(cluster.client(via).fetchMetadata, cluster.client(via), { streams: ['spill'] })).streamMetadata[0]!.partitions[0]!;

  it('moves the leadership to an in-sync replica, keeps acknowledging ALL publishes there, and takes the old leader back once space returns', async () => {
    const client = cluster.client('a');
    await call(client.createStream, client, { name: 'spill', subject: 'spill', replicationFactor: 3, minIsr: { value: 2 } });
    await waitFor(async () => (await partition('a')).isr.length === 3, 10_000, 'a full ISR');
    const oldLeader = (await partition('a')).leader;
    const healthy = ids.filter((id) => id !== oldLeader);
    const via = cluster.client(healthy[0]!);
    /** offset → label of every message acknowledged OK. */
    const acked = new Map<bigint, string>();
    const publish = async (label: string, timeoutMs: number): Promise<api.PublishResponse | grpc.ServiceError> => {
      const value = Buffer.concat([Buffer.from(`${label}:`), Buffer.alloc(VALUE_BYTES, 0x61)]);
      const answer = await call(via.publish, via, { stream: 'spill', value, expectedOffset: -1n, ackPolicy: api.AckPolicy.ALL }, timeoutMs).catch(
        (error: grpc.ServiceError) => error,
      );
      if (!(answer instanceof Error) && answer.ack?.ackError === api.AckError.OK) acked.set(answer.ack.offset, label);
      return answer;
    };
    const acknowledged = (answer: api.PublishResponse | grpc.ServiceError): boolean => !(answer instanceof Error) && answer.ack?.ackError === api.AckError.OK;
    for (let i = 0; i < 5; i++) expect(acknowledged(await publish(`before${i}`, 5000))).toBe(true);

    const filler = path.join(mounts.get(oldLeader)!, 'filler');
    fillDisk(filler);
    const filled = Date.now();
    let answered = 0;
    let n = 0;
    await waitFor(
      async () => {
        const answer = await publish(`during${n++}`, 2000);
        // Every publisher gets an answer: an ack, or an error other than a deadline.
        if (answer instanceof Error) expect(answer.code).not.toBe(grpc.status.DEADLINE_EXCEEDED);
        answered++;
        return acknowledged(answer) && !(answer instanceof Error) && answer.ack!.offset > 4n;
      },
      HAND_OVER_WITHIN_MS,
      'an ALL publish acknowledged after the leader disk filled up',
    );
    const handOverMs = Date.now() - filled;
    const moved = await partition(healthy[0]!);
    expect(moved.leader).not.toBe(oldLeader);
    expect(healthy).toContain(moved.leader);
    expect(moved.isr).not.toContain(oldLeader);
    for (let i = 0; i < 5; i++) expect(acknowledged(await publish(`moved${i}`, 5000))).toBe(true);

    fs.rmSync(filler);
    await waitFor(async () => (await partition(healthy[0]!)).isr.includes(oldLeader), REJOIN_WITHIN_MS, 'the old leader back in the ISR');
    // Every acknowledged message is there, on the new leader and on the recovered old leader.
    const count = Number([...acked.keys()].reduce((x, y) => (x > y ? x : y))) + 1;
    for (const reader of [moved.leader, oldLeader]) {
      const values = await readValues(cluster.client(reader), { stream: 'spill', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, count);
      for (const [offset, label] of acked) expect([offset, values[Number(offset)]!.split(':')[0]]).toEqual([offset, label]);
    }
    expect(answered).toBeGreaterThan(0);
    expect(handOverMs).toBeLessThan(HAND_OVER_WITHIN_MS);
  }, 90_000);
});
