import { encodeNewRecords } from '../../../../src/adapters/codec/message-set';
import { InMemoryReplicationHub } from '../../../../src/adapters/outbound/memory/in-memory-replication-transport';
import type { Cancellable, Scheduler } from '../../../../src/application/ports/clock.port';
import type { RecordBatch } from '../../../../src/application/ports/partition-log.port';
import { ReplicationFetch, ReplicationReply, ReplicationUnavailableError } from '../../../../src/application/ports/replication-transport.port';
import type { PartitionRef } from '../../../../src/domain/shared/ids';

const orders: PartitionRef = { stream: 'orders', partition: 0 };
const other: PartitionRef = { stream: 'orders', partition: 1 };
const fetchFrom = (offset: number): ReplicationFetch => ({ replicaId: 'b', offset, leaderEpoch: 1 });

function batch(firstOffset: number, count: number): RecordBatch {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), headers: null, subject: 'orders', reply: '' }));
  return { bytes: encodeNewRecords(records, firstOffset, 1n, 1), firstOffset, lastOffset: firstOffset + count - 1, count };
}

/** A leader handler that answers from `log` and remembers what it was asked. */
function leader(log: RecordBatch | null, seen: ReplicationFetch[] = []): (request: ReplicationFetch) => Promise<ReplicationReply> {
  return async (request) => {
    seen.push(request);
    return { leaderEpoch: 1, highWatermark: 2, records: log };
  };
}

/** A manual scheduler: timers fire only when the test advances time. */
class ManualScheduler implements Scheduler {
  nowMs = 0;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  afterTurn(fn: () => void): void {
    fn();
  }
  setTimeout(fn: () => void, ms: number): Cancellable {
    const timer = { at: this.nowMs + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  setInterval(): Cancellable {
    throw new Error('not used');
  }
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((t) => t.at <= this.nowMs && !t.cancelled);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}

describe('InMemoryReplicationHub', () => {
  it('routes a fetch to the server serving the partition and returns its reply', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const seen: ReplicationFetch[] = [];
    await a.serveFetches(orders, leader(batch(0, 3), seen));

    const reply = await b.fetch(orders, fetchFrom(-1), 1000);

    expect(seen).toEqual([fetchFrom(-1)]);
    expect(reply).toMatchObject({ leaderEpoch: 1, highWatermark: 2, records: { firstOffset: 0, lastOffset: 2, count: 3 } });
  });

  it('copies the record bytes: neither side can mutate the other side\'s buffer', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const log = batch(0, 1);
    const original = Buffer.from(log.bytes);
    await a.serveFetches(orders, leader(log));

    const reply = await b.fetch(orders, fetchFrom(-1), 1000);
    reply.records!.bytes.fill(0);

    expect(log.bytes.equals(original)).toBe(true);
    expect(reply.records!.bytes).not.toBe(log.bytes);
  });

  it('rejects with ReplicationUnavailableError when nobody serves the partition', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    await a.serveFetches(other, leader(null));
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(b.leaderEpochEndOffset(orders, { leaderEpoch: 1, currentLeaderEpoch: 1 }, 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
  });

  it('routes to the most recent server, and back to the previous one when it stops serving', async () => {
    const hub = new InMemoryReplicationHub();
    const [a, b, c] = [hub.connect('a'), hub.connect('b'), hub.connect('c')];
    await a.serveFetches(orders, async () => ({ leaderEpoch: 1, highWatermark: 0, records: null }));
    const served = await b.serveFetches(orders, async () => ({ leaderEpoch: 2, highWatermark: 0, records: null }));

    expect((await c.fetch(orders, fetchFrom(0), 1000)).leaderEpoch).toBe(2);
    served.cancel();
    expect((await c.fetch(orders, fetchFrom(0), 1000)).leaderEpoch).toBe(1);
  });

  it('a handler answering null or failing leaves the request unanswered (rejects at once without a scheduler)', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const served = await a.serveFetches(orders, async () => null);
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    served.cancel();
    await a.serveFetches(orders, async () => {
      throw new Error('boom');
    });
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
  });

  it('with a scheduler, an unanswered request rejects only after its timeout', async () => {
    const scheduler = new ManualScheduler();
    const hub = new InMemoryReplicationHub({ scheduler });
    const a = hub.connect('a');
    const b = hub.connect('b');
    await a.serveFetches(orders, async () => null);
    let outcome: unknown = 'pending';
    const pending = b.fetch(orders, fetchFrom(0), 3000).catch((error: unknown) => (outcome = error));

    await Promise.resolve();
    scheduler.advance(2999);
    await Promise.resolve();
    expect(outcome).toBe('pending');
    scheduler.advance(1);
    await pending;
    expect(outcome).toBeInstanceOf(ReplicationUnavailableError);
  });

  it('answers leader-epoch end-offset requests from the serving server', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const asked: number[] = [];
    await a.serveLeaderEpochEndOffsets(orders, ({ leaderEpoch: epoch }) => {
      asked.push(epoch);
      return { leaderEpoch: epoch - 1, endOffset: epoch * 10 };
    });
    expect(await b.leaderEpochEndOffset(orders, { leaderEpoch: 3, currentLeaderEpoch: 4 }, 1000)).toEqual({ leaderEpoch: 2, endOffset: 30 });
    expect(asked).toEqual([3]);
  });

  it('delivers notifications to the named server only', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    const c = hub.connect('c');
    const atB: PartitionRef[] = [];
    const atC: PartitionRef[] = [];
    b.notifications$.subscribe((ref) => atB.push(ref));
    c.notifications$.subscribe((ref) => atC.push(ref));

    a.notify('b', orders);
    a.notify('b', other);
    a.notify('nobody', orders);

    expect(atB).toEqual([orders, other]);
    expect(atC).toEqual([]);
    expect(hub.lostNotifications).toBe(1);
  });

  it('setReachable(false) cuts a server off in both directions until it is reachable again', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    await a.serveFetches(orders, leader(null));
    await a.serveLeaderEpochEndOffsets(orders, () => ({ leaderEpoch: 0, endOffset: 5 }));
    await b.serveFetches(other, leader(null));
    const atB: PartitionRef[] = [];
    b.notifications$.subscribe((ref) => atB.push(ref));

    hub.setReachable('a', false);
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(b.leaderEpochEndOffset(orders, { leaderEpoch: 1, currentLeaderEpoch: 1 }, 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(a.fetch(other, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    a.notify('b', orders);
    expect(atB).toEqual([]);
    expect(hub.lostNotifications).toBe(1);

    hub.setReachable('a', true);
    await expect(b.fetch(orders, fetchFrom(0), 1000)).resolves.toMatchObject({ leaderEpoch: 1 });
    a.notify('b', orders);
    expect(atB).toEqual([orders]);
  });

  it('a reply computed while the link went down is lost', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    await a.serveFetches(orders, async () => {
      hub.setReachable('a', false);
      return { leaderEpoch: 1, highWatermark: 0, records: null };
    });
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
  });

  it('close() stops serving, completes notifications$, and frees the server id', async () => {
    const hub = new InMemoryReplicationHub();
    const a = hub.connect('a');
    const b = hub.connect('b');
    await a.serveFetches(orders, leader(null));
    let completed = false;
    a.notifications$.subscribe({ complete: () => (completed = true) });

    await a.close();

    expect(completed).toBe(true);
    await expect(b.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(a.fetch(orders, fetchFrom(0), 1000)).rejects.toBeInstanceOf(ReplicationUnavailableError);
    await expect(a.serveFetches(orders, leader(null))).rejects.toThrow('closed');
    b.notify('a', orders);
    expect(hub.lostNotifications).toBe(1);
    expect(() => hub.connect('b')).toThrow('already connected');
    expect(() => hub.connect('a')).not.toThrow();
  });
});
