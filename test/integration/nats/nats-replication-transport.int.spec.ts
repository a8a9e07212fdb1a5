import { connect, NatsConnection } from 'nats';
import { MsgType, wrapEnvelope } from '../../../src/protocol/envelope';
import { encodeNewRecords } from '../../../src/adapters/codec/message-set';
import { encodeReplicationRequest, encodeReplicationResponse } from '../../../src/adapters/codec/replication-codec';
import { NatsReplicationTransport } from '../../../src/adapters/outbound/nats/nats-replication-transport';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import type { Logger } from '../../../src/application/ports/logger.port';
import type { RecordBatch } from '../../../src/application/ports/partition-log.port';
import { ReplicationFetch, ReplicationUnavailableError } from '../../../src/application/ports/replication-transport.port';
import type { PartitionRef } from '../../../src/domain/shared/ids';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

const logLines: { level: string; msg: string }[] = [];
const logger: Logger = {
  debug: (_o, msg) => logLines.push({ level: 'debug', msg }),
  info: (_o, msg) => logLines.push({ level: 'info', msg }),
  warn: (_o, msg) => logLines.push({ level: 'warn', msg }),
  error: (_o, msg) => logLines.push({ level: 'error', msg }),
  child: () => logger,
};

let natsServer: TestNatsServer;
const connections: NatsConnection[] = [];
const transports: NatsReplicationTransport[] = [];
let namespaceCounter = 0;

beforeAll(async () => {
  natsServer = await TestNatsServer.start();
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await Promise.all(connections.map((c) => c.close()));
  await natsServer?.stop();
});

async function newConnection(): Promise<NatsConnection> {
  const nc = await connect({ servers: natsServer.url });
  connections.push(nc);
  return nc;
}

/** A leader and a follower transport, each on its own connection, in a fresh namespace. */
async function pair(namespace = `replication-test-${++namespaceCounter}`): Promise<{ leader: NatsReplicationTransport; follower: NatsReplicationTransport; namespace: string }> {
  const leader = new NatsReplicationTransport(await newConnection(), namespace, 'a', logger);
  const follower = new NatsReplicationTransport(await newConnection(), namespace, 'b', logger);
  transports.push(leader, follower);
  return { leader, follower, namespace };
}

const orders: PartitionRef = { stream: 'orders', partition: 1 };
const fetchFrom = (offset: number): ReplicationFetch => ({ replicaId: 'b', offset, leaderEpoch: 2 });

function batch(firstOffset: number, count: number): RecordBatch {
  const records = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i}`), headers: null, subject: 'orders.1', reply: '' }));
  return { bytes: encodeNewRecords(records, firstOffset, 1_700_000_000_000_000_000n, 2), firstOffset, lastOffset: firstOffset + count - 1, count };
}

describe('NatsReplicationTransport', () => {
  it('builds Liftbridge\'s replication subjects and refuses stream names and server ids that are not subject-safe', () => {
    const subjects = new Subjects('liftbridge-default');
    expect(subjects.replicate({ stream: 'foo', partition: 0 })).toBe('liftbridge-default.foo.0.replicate');
    expect(subjects.leaderEpochOffset({ stream: 'foo.bar', partition: 3 })).toBe('liftbridge-default.foo.bar.3.offset');
    expect(subjects.notify('server-1')).toBe('liftbridge-default.notify.server-1');
    for (const stream of ['', 'a b', 'a.*', '>', 'a..b', '.a', 'a.']) expect(() => subjects.replicate({ stream, partition: 0 })).toThrow(RangeError);
    expect(() => subjects.replicate({ stream: 'a', partition: -1 })).toThrow(RangeError);
    for (const id of ['', 'a.b', '*', 'a b']) expect(() => subjects.notify(id)).toThrow(RangeError);
  });

  it('a fetch reaches the leader and returns its real RecordBatch, decoded', async () => {
    const { leader, follower } = await pair();
    const log = batch(5, 3);
    const seen: ReplicationFetch[] = [];
    await leader.serveFetches(orders, async (request) => {
      seen.push(request);
      return { leaderEpoch: 2, highWatermark: 6, records: log };
    });

    const reply = await follower.fetch(orders, fetchFrom(4), 2000);

    expect(seen).toEqual([fetchFrom(4)]);
    expect(reply.leaderEpoch).toBe(2);
    expect(reply.highWatermark).toBe(6);
    expect(reply.records).toMatchObject({ firstOffset: 5, lastOffset: 7, count: 3 });
    expect(reply.records!.bytes.equals(log.bytes)).toBe(true);
  });

  it('an empty reply (caught-up follower) arrives with null records', async () => {
    const { leader, follower } = await pair();
    await leader.serveFetches(orders, async () => ({ leaderEpoch: 2, highWatermark: 7, records: null }));
    expect(await follower.fetch(orders, fetchFrom(7), 2000)).toEqual({ leaderEpoch: 2, highWatermark: 7, records: null });
  });

  it('a handler answering null leaves the request unanswered: the fetch times out as ReplicationUnavailableError', async () => {
    const { leader, follower } = await pair();
    let asked = 0;
    await leader.serveFetches(orders, async () => {
      asked++;
      return null;
    });
    await expect(follower.fetch(orders, fetchFrom(0), 300)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    expect(asked).toBe(1);
  });

  it('with no leader serving, a fetch fails fast as ReplicationUnavailableError (NATS no responders)', async () => {
    const { follower } = await pair();
    const started = Date.now();
    await expect(follower.fetch(orders, fetchFrom(0), 5000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(follower.leaderEpochEndOffset(orders, { leaderEpoch: 1, currentLeaderEpoch: 2 }, 5000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('cancel() stops serving', async () => {
    const { leader, follower } = await pair();
    const served = await leader.serveFetches(orders, async () => ({ leaderEpoch: 2, highWatermark: 0, records: null }));
    await expect(follower.fetch(orders, fetchFrom(0), 2000)).resolves.toMatchObject({ leaderEpoch: 2 });
    served.cancel();
    await expect(follower.fetch(orders, fetchFrom(0), 2000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
  });

  it('answers leader-epoch end-offset requests', async () => {
    const { leader, follower } = await pair();
    const asked: number[] = [];
    await leader.serveLeaderEpochEndOffsets(orders, ({ leaderEpoch: epoch, currentLeaderEpoch }) => {
      asked.push(epoch);
      if (currentLeaderEpoch !== 3) return null; // fenced: only followers of epoch 3 get an answer
      return epoch === 1 ? { leaderEpoch: 1, endOffset: 42 } : { leaderEpoch: -1, endOffset: 100 };
    });
    expect(await follower.leaderEpochEndOffset(orders, { leaderEpoch: 1, currentLeaderEpoch: 3 }, 2000)).toEqual({ leaderEpoch: 1, endOffset: 42 });
    expect(await follower.leaderEpochEndOffset(orders, { leaderEpoch: 2, currentLeaderEpoch: 3 }, 2000)).toEqual({ leaderEpoch: -1, endOffset: 100 });
    await expect(follower.leaderEpochEndOffset(orders, { leaderEpoch: 2, currentLeaderEpoch: 4 }, 300)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    expect(asked).toEqual([1, 2, 2]);
  });

  it('delivers notifications to the named server only', async () => {
    const { leader, follower } = await pair();
    const atFollower: PartitionRef[] = [];
    const atLeader: PartitionRef[] = [];
    follower.notifications$.subscribe((ref) => atFollower.push(ref));
    leader.notifications$.subscribe((ref) => atLeader.push(ref));
    await Promise.all(connections.map((c) => c.flush()));

    leader.notify('b', orders);
    leader.notify('b', { stream: 'other', partition: 0 });
    leader.notify('nobody', orders);

    await waitFor(() => atFollower.length === 2, 5000, 'two notifications');
    expect(atFollower).toEqual([orders, { stream: 'other', partition: 0 }]);
    expect(atLeader).toEqual([]);
  });

  it('drops and counts malformed requests, replies and notifications without crashing, then keeps serving', async () => {
    const { leader, follower, namespace } = await pair();
    const subjects = new Subjects(namespace);
    const raw = await newConnection();
    let asked = 0;
    await leader.serveFetches(orders, async () => {
      asked++;
      return { leaderEpoch: 2, highWatermark: 0, records: null };
    });
    await leader.serveLeaderEpochEndOffsets(orders, () => ({ leaderEpoch: 1, endOffset: 1 }));

    await expect(raw.request(subjects.replicate(orders), new Uint8Array([1, 2, 3]), { timeout: 300 })).rejects.toThrow();
    await expect(raw.request(subjects.replicate(orders), wrapEnvelope(MsgType.ReplicationRequest, Buffer.from([0x0a, 0x00])), { timeout: 300 })).rejects.toThrow();
    await expect(raw.request(subjects.leaderEpochOffset(orders), encodeReplicationRequest(fetchFrom(0)), { timeout: 300 })).rejects.toThrow();
    expect(leader.counters.malformedRequests).toBe(3);
    expect(asked).toBe(0);
    expect(logLines.filter((l) => l.msg.startsWith('dropping malformed'))).not.toHaveLength(0);

    raw.publish(subjects.notify('b'), Buffer.from('garbage'));
    await raw.flush();
    await waitFor(() => follower.counters.malformedNotifications === 1, 5000, 'malformed notification counted');

    // A "leader" answering with a corrupt response: the follower sees an unavailable leader.
    const corrupt = Buffer.concat([encodeReplicationResponse({ leaderEpoch: 2, highWatermark: 0, records: null }), Buffer.from([0, 0, 0])]);
    const badLeaderRef = { stream: 'corrupt', partition: 0 };
    const badSub = raw.subscribe(subjects.replicate(badLeaderRef), { callback: (_e, msg) => msg.respond(corrupt) });
    await raw.flush();
    await expect(follower.fetch(badLeaderRef, fetchFrom(0), 2000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    expect(follower.counters.malformedReplies).toBe(1);
    badSub.unsubscribe();

    await expect(follower.fetch(orders, fetchFrom(0), 2000)).resolves.toMatchObject({ leaderEpoch: 2 });
    expect(asked).toBe(1);
  });

  it('a failing handler leaves the request unanswered and is counted', async () => {
    const { leader, follower } = await pair();
    await leader.serveFetches(orders, async () => {
      throw new Error('disk on fire');
    });
    await expect(follower.fetch(orders, fetchFrom(0), 300)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await waitFor(() => leader.counters.handlerFailures === 1, 2000, 'handler failure counted');
  });

  it('reports the NATS server max_payload, which bounds the replies (docs/replication.md "Message size")', async () => {
    const { leader } = await pair();
    expect(leader.payloadBytesMax).toBe(1024 * 1024);
  });

  it('a reply the NATS client refuses is counted, reported as a metric, and logged at most once per interval', async () => {
    const namespace = `replication-test-${++namespaceCounter}`;
    let metric = 0;
    const leader = new NatsReplicationTransport(await newConnection(), namespace, 'a', logger, undefined, () => metric++);
    const follower = new NatsReplicationTransport(await newConnection(), namespace, 'b', logger);
    transports.push(leader, follower);
    const value = Buffer.alloc(leader.payloadBytesMax, 1); // the entry alone is larger than any message
    const records: RecordBatch = { bytes: encodeNewRecords([{ key: null, value, headers: null, subject: 'orders.1', reply: '' }], 0, 1n, 2), firstOffset: 0, lastOffset: 0, count: 1 };
    await leader.serveFetches(orders, async () => ({ leaderEpoch: 2, highWatermark: -1, records }));
    const logged = (): number => logLines.filter((l) => l.msg === 'replication reply not sent').length;
    const before = logged();
    for (let i = 0; i < 3; i++) await expect(follower.fetch(orders, fetchFrom(-1), 300)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await waitFor(() => leader.counters.publishFailures === 3, 2000, 'three refused replies');
    expect(metric).toBe(3);
    expect(logged() - before).toBe(1);
  });

  it('two namespaces are isolated', async () => {
    const one = await pair();
    const two = await pair();
    await one.leader.serveFetches(orders, async () => ({ leaderEpoch: 1, highWatermark: 0, records: null }));
    const atTwo: PartitionRef[] = [];
    two.follower.notifications$.subscribe((ref) => atTwo.push(ref));
    const atOne: PartitionRef[] = [];
    one.follower.notifications$.subscribe((ref) => atOne.push(ref));

    await expect(two.follower.fetch(orders, fetchFrom(0), 2000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(one.follower.fetch(orders, fetchFrom(0), 2000)).resolves.toMatchObject({ leaderEpoch: 1 });

    one.leader.notify('b', orders);
    await waitFor(() => atOne.length === 1, 5000, 'notification in namespace one');
    // Same connection order on the server: once one's notification arrived, a leak into two would have too.
    await Promise.all(connections.map((c) => c.flush()));
    expect(atTwo).toEqual([]);
  });

  it('close() unsubscribes everything and completes notifications$', async () => {
    const { leader, follower } = await pair();
    await leader.serveFetches(orders, async () => ({ leaderEpoch: 1, highWatermark: 0, records: null }));
    let completed = false;
    leader.notifications$.subscribe({ complete: () => (completed = true) });

    await leader.close();

    expect(completed).toBe(true);
    await expect(follower.fetch(orders, fetchFrom(0), 2000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(leader.fetch(orders, fetchFrom(0), 2000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    follower.notify('a', orders); // nobody listens any more: lost, not an error
  });
});
