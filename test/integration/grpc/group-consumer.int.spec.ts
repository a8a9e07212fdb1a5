import { LiftbridgeClient, StartPosition, type GroupConsumer } from '../../../src/client';
import type { ReceivedMessage } from '../../../src/client/types';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/wait-for';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * The client's group consumer against a real server (docs/client.md "Consumer groups"): members
 * share the partitions of a stream, a member joining or leaving moves partitions, and what a
 * member delivered and checkpointed is not read again by the member that takes over. Short
 * consumer timeout (polls every 0.4 x 3 s) and checkpoints every 300 ms keep it quick.
 */
const PARTITIONS = 4;

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: LiftbridgeClient;
/** Members a test opened: closed after it even when it failed, so that their poll timers do not keep Jest running. */
const opened: GroupConsumer[] = [];

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(
    testBrokerConfig(nats.url, { cursors: { streamPartitions: 1 }, groups: { consumerTimeoutMs: 3000, coordinatorTimeoutMs: 2000 } }),
  );
  client = await LiftbridgeClient.connect({ servers: [server.address], retry: { attempts: 40, backoffMs: 100, maxBackoffMs: 500 } });
  await client.createStream('events', 'events', { partitions: PARTITIONS });
  await waitFor(async () => (await client.fetchMetadata(['__cursors'])).streamMetadata.some((s) => s.name === '__cursors' && s.error === 0), 20_000, '__cursors');
}, 40_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

/** Reads a member in the background, recording `partition:offset` of every message. */
function drain(consumer: GroupConsumer, seen: string[]): Promise<void> {
  return (async () => {
    for await (const m of consumer as AsyncIterable<ReceivedMessage>) seen.push(`${m.partition}:${m.offset}`);
  })();
}

async function publish(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await client.publish('events', `m${i}`, { partition: i % PARTITIONS });
}

describe('GroupConsumer against a real server', () => {
  it('shares the partitions between members, moves them on join and leave, and resumes from the checkpoints', async () => {
    const options = { groupId: 'g', streams: ['events'], autoOffset: StartPosition.EARLIEST, checkpointEveryMs: 300 } as const;
    const seen1: string[] = [];
    const seen2: string[] = [];
    const c1 = client.groupConsumer({ ...options, consumerId: 'c1' });
    opened.push(c1);
    await publish(0, 20);
    const reading1 = drain(c1, seen1);
    await waitFor(() => seen1.length === 20, 15_000, 'c1 reads all 20');
    expect(c1.assigned).toEqual(['events/0', 'events/1', 'events/2', 'events/3']);

    const c2 = client.groupConsumer({ ...options, consumerId: 'c2' });
    opened.push(c2);
    const reading2 = drain(c2, seen2);
    // `assigned` is what a member reads at the moment: while it reconciles to a new epoch it closes a
    // kept partition and opens it again, so only a state where the two views add up is the outcome
    // (CI once caught c1 mid-reconcile on {2,3} while c2 already read {1,3}).
    const shared = (): boolean => c1.assigned.length === 2 && c2.assigned.length === 2 && [...c1.assigned, ...c2.assigned].sort().join() === 'events/0,events/1,events/2,events/3';
    await waitFor(shared, 15_000, 'two partitions each, all four between them').catch((e) => {
      throw new Error(`${String(e)}: c1 ${c1.assigned.join(',')} c2 ${c2.assigned.join(',')} seen2 ${seen2.length}`);
    });
    // c2 starts from the group's cursors: what c1 delivered and checkpointed is not read again.
    await publish(20, 20);
    await waitFor(() => new Set([...seen1, ...seen2]).size === 40, 15_000, 'all 40 read once between them');

    await c2.close();
    await reading2;
    await waitFor(() => c1.assigned.length === PARTITIONS, 15_000, 'c1 takes all partitions back');
    await publish(40, 8);
    await waitFor(() => new Set([...seen1, ...seen2]).size === 48, 15_000, 'the last 8 read');
    const everything = [...seen1, ...seen2];
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = new Set(everything.filter((s) => s.startsWith(`${p}:`)).map((s) => Number(s.split(':')[1])));
      expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    }
    await c1.close();
    await reading1;
  });
});
