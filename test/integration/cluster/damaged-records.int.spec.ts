import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient, readValues, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Damaged records on real files (docs/storage.md §4.1, docs/replication.md
 * "Damaged records"), with three in-process servers on a real nats-server. A byte is flipped in the
 * value of one acknowledged record while a server is stopped, and its active segment's index is
 * removed, as a kill -9 leaves it lagging, so that recovery scans the log and finds the damage:
 * - on a follower, the record is repaired in place from the leader: its `.log` ends byte-identical;
 * - on the leader, it hands its leadership to an in-sync replica and repairs as a follower; no
 *   reader and no follower ever gets the damaged bytes; nothing acknowledged is lost;
 * - with one replica, it is reported (metric, log, GET /partitions/damaged) and readers reaching it
 *   end with DATA_LOSS naming the offset; a Subscribe after it works.
 */
let nats: TestNatsServer;
const namespace = `dmg${Math.floor(Math.random() * 1e9)}`;
const ids = ['a', 'b', 'c'];
const servers = new Map<string, StartedTestBroker>();
const clients = new Map<string, ApiClient>();
const dataDirs = new Map<string, string>();
const RECORDS = 200;
const DAMAGED = 100;
const values = Array.from({ length: RECORDS }, (_, i) => `value-${String(i).padStart(4, '0')}`);

const config = (id: string) => {
  const c = testBrokerConfig(nats.url, {
    clustering: { serverId: id, namespace, raftBootstrapSeed: id === 'a', replicaMaxLagTimeMs: 2000, brokerTimeoutMs: 10_000 },
  });
  const dir = dataDirs.get(id);
  if (dir === undefined) dataDirs.set(id, c.dataDir);
  return dir === undefined ? c : { ...c, dataDir: dir };
};

async function start(id: string): Promise<void> {
  const server = await startTestBroker(config(id));
  servers.set(id, server);
  clients.get(id)?.close();
  clients.set(id, connectClient(server.address));
}

async function stop(id: string): Promise<void> {
  await servers.get(id)!.stop();
  servers.delete(id);
}

const client = (id: string): ApiClient => clients.get(id)!;
const live = (): string[] => ids.filter((id) => servers.has(id));

async function partitionMeta(stream: string): Promise<api.PartitionMetadata | null> {
  for (const id of live()) {
    const meta = await call(client(id).fetchMetadata, client(id), { streams: [stream] }, 2000).catch(() => null);
    const p = meta?.streamMetadata[0]?.partitions[0];
    if (p) return p;
  }
  return null;
}

/** The partition leader once its leader role runs (it answers FetchPartitionMetadata then). */
async function readyLeader(stream: string): Promise<string> {
  let leader = '';
  await waitFor(async () => {
    leader = (await partitionMeta(stream))?.leader ?? '';
    if (!servers.has(leader)) return false;
    return call(client(leader).fetchPartitionMetadata, client(leader), { stream, partition: 0 }, 2000).then(() => true, () => false);
  }, 20_000, `the leader of ${stream} to serve`);
  return leader;
}

async function publishAll(stream: string, leader: string): Promise<void> {
  for (let i = 0; i < values.length; i++) {
    const response = await call(client(leader).publish, client(leader), { stream, value: Buffer.from(values[i]!), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });
    expect(response.ack!.offset).toBe(BigInt(i));
  }
}

/** Every value from EARLIEST as `id` serves them (readISRReplica); the stream must not end early. */
/**
 * Every record from `id`'s own log. A role change there (a leadership move, the repaired replica
 * rejoining) closes the log under a reader, which ends with "commit log was closed", as any
 * client sees it; the reader subscribes again, as clients do.
 */
async function readAll(id: string, stream: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await readValues(client(id), { stream, startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, RECORDS, Math.max(1000, deadline - Date.now()));
    } catch (error) {
      if (!String((error as Error).message).includes('commit log was closed') || Date.now() > deadline) throw error;
    }
  }
}

const activeLog = (id: string, stream: string) => path.join(dataDirs.get(id)!, 'streams', stream, '0', `${'0'.repeat(20)}.log`);

/** Flips one byte in the value of record `offset` and removes the index (a kill -9 leaves it lagging). */
function damage(id: string, stream: string, offset: number): void {
  const file = activeLog(id, stream);
  const bytes = fs.readFileSync(file);
  let pos = 0;
  for (let o = 0; o < offset; o++) pos += 28 + bytes.readUInt32BE(pos + 24);
  bytes[pos + 45] ^= 0xff; // 28-byte header, CRC, magic, attributes, key length, value length: inside the value
  fs.writeFileSync(file, bytes);
  fs.rmSync(file.replace(/\.log$/, '.index'));
}

const logLines = (id: string, text: string) => servers.get(id)!.logs.lines.filter((l) => String(l['msg']).includes(text));
const sameLog = (a: string, b: string, stream: string) => fs.readFileSync(activeLog(a, stream)).equals(fs.readFileSync(activeLog(b, stream)));

beforeAll(async () => {
  nats = await TestNatsServer.start();
  for (const id of ids) await start(id);
  await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  for (const s of servers.values()) await s.stop();
  for (const dir of dataDirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  await nats?.stop();
});

describe('a damaged record on a replicated partition', () => {
  it('on a follower is repaired in place from the leader: the follower log ends byte-identical', async () => {
    await call(client('a').createStream, client('a'), { name: 'fd', subject: 'fd', replicationFactor: 3, minIsr: { value: 2 } });
    const leader = await readyLeader('fd');
    await publishAll('fd', leader);
    for (const id of ids) expect(await readAll(id, 'fd')).toEqual(values);
    const follower = ids.find((id) => id !== leader)!;
    await stop(follower);
    damage(follower, 'fd', DAMAGED);
    expect(sameLog(follower, leader, 'fd')).toBe(false);
    await start(follower);
    expect(logLines(follower, 'damaged record kept')[0]).toEqual(expect.objectContaining({ firstOffset: DAMAGED, lastOffset: DAMAGED, defect: 'bad-crc' }));
    await waitFor(() => logLines(follower, 'repaired damaged records from the leader').length > 0, 20_000, 'the follower to repair from the leader');
    expect(sameLog(follower, leader, 'fd')).toBe(true);
    expect(logLines(follower, 'repaired damaged records from the leader')).toHaveLength(1);
    await waitFor(() => servers.get(follower)!.broker.damagedPartitions().length === 0, 5000, 'no damage reported');
    expect(await readAll(follower, 'fd')).toEqual(values);
    await waitFor(async () => (await partitionMeta('fd'))?.isr.length === 3, 15_000, 'the follower back in the ISR');
  }, 90_000);

  it('on the leader after a restart: leadership moves to an in-sync replica, no one gets damaged bytes, the leader repairs, nothing is lost', async () => {
    await call(client('a').createStream, client('a'), { name: 'ld', subject: 'ld', replicationFactor: 3, minIsr: { value: 2 } });
    const leader = await readyLeader('ld');
    await publishAll('ld', leader);
    for (const id of ids) expect(await readAll(id, 'ld')).toEqual(values);
    // Stop the followers first: without a metadata quorum nothing moves the leadership while down.
    for (const id of ids.filter((i) => i !== leader)) await stop(id);
    await stop(leader);
    damage(leader, 'ld', DAMAGED);
    await Promise.all(ids.map((id) => start(id)));
    expect(logLines(leader, 'damaged record kept')[0]).toEqual(expect.objectContaining({ firstOffset: DAMAGED, lastOffset: DAMAGED }));

    // A reader from the start follows the leadership; it must get every record, each intact.
    const received: string[] = [];
    await waitFor(async () => {
      const current = await readyLeader('ld');
      const sub = subscribe(client(current), { stream: 'ld', startPosition: api.StartPosition.OFFSET, startOffset: BigInt(received.length) });
      await sub.waitFor(RECORDS - received.length, 10_000).catch(() => undefined);
      sub.cancel();
      const status = await sub.done;
      received.push(...sub.messages.map((m) => Buffer.from(m.value).toString()));
      expect([grpc.status.OK, grpc.status.CANCELLED, grpc.status.INTERNAL, grpc.status.FAILED_PRECONDITION]).toContain(status.code);
      return received.length >= RECORDS;
    }, 40_000, 'every record read through the leadership change');
    expect(received.slice(0, RECORDS)).toEqual(values);

    expect(logLines(leader, 'handing the leadership to an in-sync replica')).not.toHaveLength(0);
    const newLeader = await readyLeader('ld');
    expect(newLeader).not.toBe(leader);
    await waitFor(() => logLines(leader, 'repaired damaged records from the leader').length > 0, 30_000, 'the old leader to repair as a follower');
    expect(sameLog(leader, newLeader, 'ld')).toBe(true);
    expect(logLines(leader, 'repaired damaged records from the leader')).toHaveLength(1);
    await waitFor(() => servers.get(leader)!.broker.damagedPartitions().length === 0, 5000, 'no damage reported');
    for (const id of ids) {
      expect(await readAll(id, 'ld')).toEqual(values);
      expect(sameLog(id, newLeader, 'ld')).toBe(true);
      expect(logLines(id, 'rejected')).toEqual([]); // no follower was ever sent a bad record
    }
    await waitFor(async () => (await partitionMeta('ld'))?.isr.length === 3, 20_000, 'the old leader back in the ISR');
  }, 120_000);
});

describe('a damaged record on a partition with one replica', () => {
  it('is reported and never served: readers end with DATA_LOSS naming it, and a Subscribe after it works', async () => {
    const httpPort = await freePort();
    const single = testBrokerConfig(nats.url, { http: { host: '127.0.0.1', port: httpPort } });
    let server = await startTestBroker(single);
    let c = connectClient(server.address);
    try {
      await call(c.createStream, c, { name: 'one', subject: 'one' });
      for (let i = 0; i < 50; i++) await call(c.publish, c, { stream: 'one', value: Buffer.from(values[i]!), ackPolicy: api.AckPolicy.LEADER, expectedOffset: -1n });
      await server.stop();
      c.close();
      dataDirs.set('single', single.dataDir);
      damage('single', 'one', 20);
      const size = fs.statSync(activeLog('single', 'one')).size;
      server = await startTestBroker(single);
      c = connectClient(server.address);

      const sub = subscribe(c, { stream: 'one', startPosition: api.StartPosition.EARLIEST });
      const status = await sub.done;
      expect(status.code).toBe(grpc.status.DATA_LOSS);
      expect(status.details).toContain('record at offset 20 is damaged');
      expect(sub.messages.map((m) => Buffer.from(m.value).toString())).toEqual(values.slice(0, 20));
      const after = subscribe(c, { stream: 'one', startPosition: api.StartPosition.OFFSET, startOffset: 21n });
      expect((await after.waitFor(29)).map((m) => Buffer.from(m.value).toString())).toEqual(values.slice(21, 50));
      after.cancel();
      await after.done;

      const damaged = (await (await fetch(`http://127.0.0.1:${httpPort}/partitions/damaged`)).json()) as { partitions: unknown[] };
      expect(damaged.partitions).toEqual([
        { stream: 'one', partition: 0, role: 'leader', damaged: [{ firstOffset: 20, lastOffset: 20 }], records: 1, repair: 'unrepairable' },
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toContain('liftbridge_partition_damaged_records{stream="one",partition="0"} 1');
      expect(server.logs.lines.filter((l) => String(l['msg']).includes('damaged record kept'))[0]).toEqual(
        expect.objectContaining({ file: activeLog('single', 'one'), firstOffset: 20, lastOffset: 20 }),
      );
      expect(fs.statSync(activeLog('single', 'one')).size).toBe(size);
    } finally {
      c.close();
      await server.stop();
    }
  }, 60_000);
});
