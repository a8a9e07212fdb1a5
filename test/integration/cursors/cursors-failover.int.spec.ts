import { AckPolicy, crc32Ieee, LiftbridgeClient, StartPosition } from '../../../src/client';
import { waitFor } from '../../support/ports';
import { ProcessCluster } from '../../support/process-cluster';

/**
 * Cursors end to end against real processes (docs/consumers.md "Cursors"): three `liftbridge`
 * executables and a nats-server on loopback with `__cursors` enabled (3 partitions, replicated on
 * every server). SetCursor/FetchCursor through the client, a durable consumer resuming from its
 * checkpoint; then kill -9 of the leader of one
 * `__cursors` partition while 1,000 SetCursor calls run on it: every acknowledged cursor must read
 * back at or after its acknowledged value.
 */
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];
const CURSOR_PARTITIONS = 3;
const WRITES = 1000;
const WRITERS = 10;
const env = {
  ...process.env,
  LIFTBRIDGE_CURSORS_STREAM_PARTITIONS: String(CURSOR_PARTITIONS),
  // Every server holds every cursor: the controller retries the creation until all three are up.
  LIFTBRIDGE_CURSORS_STREAM_REPLICATION_FACTOR: '3',
};

let cluster: ProcessCluster<Id>;
let client: LiftbridgeClient;

const ownerOf = (id: string, stream: string, partition: number): number => crc32Ieee(`${id},${stream},${partition}`) % CURSOR_PARTITIONS;

async function cursorsLeaders(): Promise<Map<number, string> | null> {
  try {
    const metadata = await client.fetchMetadata(['__cursors']);
    const stream = metadata.streamMetadata.find((s) => s.name === '__cursors' && s.error === 0);
    if (!stream) return null;
    const leaders = new Map<number, string>();
    for (const [p, m] of Object.entries(stream.partitions)) if (m.leader !== '' && m.isr.length === 3) leaders.set(Number(p), m.leader);
    return leaders.size === CURSOR_PARTITIONS ? leaders : null;
  } catch {
    return null;
  }
}

beforeAll(async () => {
  cluster = await ProcessCluster.create(ids, 'cur');
  for (const id of ids) await cluster.start(id, env);
  client = await LiftbridgeClient.connect({
    servers: ids.map((id) => cluster.running.get(id)!.address),
    retry: { attempts: 60, backoffMs: 100, maxBackoffMs: 500 },
    rpcTimeoutMs: 5000,
  });
  await waitFor(async () => (await cursorsLeaders()) !== null, 40_000, '__cursors created with a full ISR');
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

describe('cursors on a three-server cluster', () => {
  it('SetCursor then FetchCursor through the client; -1 for a cursor never set', async () => {
    expect(await client.fetchCursor({ id: 'never', stream: 'orders', partition: 0 })).toBe(-1n);
    await client.setCursor({ id: 'c1', stream: 'orders', partition: 2, offset: 5 });
    expect(await client.fetchCursor({ id: 'c1', stream: 'orders', partition: 2 })).toBe(5n);
    await client.setCursor({ id: 'c1', stream: 'orders', partition: 2, offset: 10n });
    expect(await client.fetchCursor({ id: 'c1', stream: 'orders', partition: 2 })).toBe(10n);
  });

  it('a durable consumer resumes after its last checkpoint, with no gap and no repeat', async () => {
    await client.createStream('events', 'events', { replicationFactor: 3 });
    // The partition's leader may start a moment after CreateStream answered: the first publish is retried until acked.
    await waitFor(() => client.publish('events', Buffer.from('m0'), { ackPolicy: AckPolicy.ALL }).then(() => true, () => false), 20_000, 'a first message acked');
    for (let i = 1; i < 30; i++) await client.publish('events', Buffer.from(`m${i}`), { ackPolicy: AckPolicy.ALL });
    const read = async (stopAfter: number): Promise<bigint[]> => {
      const seen: bigint[] = [];
      const consumer = client.durableConsumer({ id: 'reader', stream: 'events', whenNoCursor: StartPosition.EARLIEST, checkpointEveryMessages: 5 });
      for await (const m of consumer) {
        seen.push(m.offset);
        if (seen.length === stopAfter) break;
      }
      return seen;
    };

    expect(await read(12)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i)));
    expect(await client.fetchCursor({ id: 'reader', stream: 'events' })).toBe(11n);
    expect(await read(18)).toEqual(Array.from({ length: 18 }, (_, i) => BigInt(12 + i)));
  });

  it(`kill -9 of a __cursors partition leader under ${WRITES} SetCursor calls: every acknowledged cursor reads back at or after its value`, async () => {
    const leaders = (await cursorsLeaders())!;
    const target = 0;
    const victim = leaders.get(target)! as Id;
    // Cursor ids owned by the victim's partition, one sequential writer each.
    const cursorIds: string[] = [];
    for (let i = 0; cursorIds.length < WRITERS; i++) if (ownerOf(`w${i}`, 'load', 0) === target) cursorIds.push(`w${i}`);
    const acked = new Map<string, number>();
    let attempts = 0;
    let failures = 0;
    let killed = false;
    const writer = async (id: string): Promise<void> => {
      for (let value = 1; attempts < WRITES; value++) {
        attempts++;
        if (attempts === WRITES / 5 && !killed) {
          killed = true;
          await cluster.running.get(victim)!.kill();
          cluster.running.delete(victim);
        }
        try {
          await client.setCursor({ id, stream: 'load', partition: 0, offset: value });
          acked.set(id, value);
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(cursorIds.map(writer));

    expect(killed).toBe(true);
    expect(acked.size).toBe(WRITERS);
    // Most writes went through: the client waited out the failover instead of giving up.
    expect(failures).toBeLessThan(WRITES / 10);
    const newLeader = (await client.fetchMetadata(['__cursors'])).streamMetadata[0]!.partitions[target]!.leader;
    expect(newLeader).not.toBe(victim);
    for (const [id, value] of acked) {
      const read = await client.fetchCursor({ id, stream: 'load', partition: 0 });
      expect({ id, read: Number(read) >= value }).toEqual({ id, read: true });
    }
  }, 60_000);
});
