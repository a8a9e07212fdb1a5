import { InMemoryMessageTransport } from '../../../../src/adapters/outbound/memory/in-memory-message-transport';
import type { MetadataService } from '../../../../src/application/metadata/metadata-service';
import type { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import type { AckLease } from '../../../../src/application/ports/ack-lease.port';
import { AckError, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import { ReplicationReply, ReplicationUnavailableError } from '../../../../src/application/ports/replication-transport.port';
import { PublishHandler } from '../../../../src/application/use-cases/publish';
import type { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { memorySettings } from '../../../support/memory-broker';
import { createStream, registerBroker, stateAfter } from '../../../support/metadata-mothers';
import { carried, LeaderHarness, startLeader, SUBJECT, Tracked } from './partition-leader-fixture';

/**
 * The partition leader's acknowledgements on virtual time (docs/replication.md "Commit rule and
 * acknowledgements"): LEADER once the batch is durable on the leader, ALL once the high watermark
 * (durable on every ISR member, and only while the ISR has minIsr members) covers it, NONE never.
 * The test plays the followers by sending their fetches.
 */

const NS_PER_MS = 1_000_000n;

/** Follower `replica` copies everything the leader serves, then reports it durable; returns that report (held open after). */
async function copyAndReport(h: LeaderHarness, replica: string, from = -1): Promise<Tracked<ReplicationReply>> {
  const reply = h.fetch(replica, from);
  await h.settle();
  const range = carried(reply.value);
  if (range === null) throw new Error(`${replica} got no records from ${from}`);
  const report = h.fetch(replica, range[1]);
  await h.settle();
  return report;
}

describe('a single-replica partition leader', () => {
  it('acks LEADER and ALL once the append is durable, in publish order; NONE is stored without an ack', async () => {
    const h = await startLeader({ heldDurability: true });
    h.publish('l0', AckPolicy.LEADER);
    h.publish('a1', AckPolicy.ALL);
    h.publish('n2', AckPolicy.NONE);
    h.publish('l3', AckPolicy.LEADER);
    await h.settle();
    expect(h.log.newestOffset).toBe(3);
    await h.time.advance(40); // a slow fsync
    expect(h.acks).toEqual([]);
    expect(h.log.highWatermark).toBe(-1);

    h.makeDurable();
    await h.settle();
    expect(h.ackSummary()).toEqual([
      ['l0', 0, AckError.OK],
      ['a1', 1, AckError.OK],
      ['l3', 3, AckError.OK],
    ]);
    expect(h.log.highWatermark).toBe(3);
    // Received in the first turn (t = 0), committed when the write became durable (t = 41).
    const ack = h.ackOf('a1')!;
    expect(ack.commitTimestampNs - ack.receptionTimestampNs).toBe(41n * NS_PER_MS);
    expect(ack).toMatchObject({ stream: 'orders', partitionSubject: SUBJECT, msgSubject: SUBJECT, ackPolicy: AckPolicy.ALL });
    await h.stop();
  });

  it('commits at start what the log holds durably above its high watermark (a restart after a crash)', async () => {
    const h = await startLeader({
      leaderEpoch: 3,
      before: async (log) => {
        await log.append([{ key: null, value: Buffer.from('old'), headers: null, subject: SUBJECT, reply: '' }], 1n, 2).durable;
      },
    });
    expect(h.log.highWatermark).toBe(0);
    expect(h.log.lastLeaderEpoch).toBe(3);
    h.publish('new');
    await h.settle();
    expect(h.ackSummary()).toEqual([['new', 1, AckError.OK]]);
    await h.stop();
  });
});

describe('a replicated partition leader', () => {
  it('acks LEADER once durable on the leader and ALL once every ISR member reported the records durable', async () => {
    const h = await startLeader({ followers: ['b', 'c'] });
    h.publish('l0', AckPolicy.LEADER);
    h.publish('x1', AckPolicy.ALL);
    h.publish('n2', AckPolicy.NONE);
    await h.settle();
    expect(h.ackSummary()).toEqual([['l0', 0, AckError.OK]]);

    await copyAndReport(h, 'b');
    expect(h.ackOf('x1')).toBeUndefined(); // c has not reported yet
    expect(h.log.highWatermark).toBe(-1);

    await h.time.advance(250);
    await copyAndReport(h, 'c');
    expect(h.ackSummary()).toEqual([
      ['l0', 0, AckError.OK],
      ['x1', 1, AckError.OK],
    ]);
    expect(h.log.highWatermark).toBe(2);
    // The ALL ack carries the commit time: when the last ISR member reported.
    const ack = h.ackOf('x1')!;
    expect(ack.commitTimestampNs - ack.receptionTimestampNs).toBe(BigInt(h.time.elapsedMs - 1) * NS_PER_MS);
    await h.stop();
  });

  it('serves followers only durable records, and acks LEADER only once its own write is durable', async () => {
    const h = await startLeader({ followers: ['b'], heldDurability: true });
    h.publish('l0', AckPolicy.LEADER);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    const waiting = h.fetch('b', -1);
    await h.time.advance(100);
    expect(waiting.settled).toBe(false); // held open: nothing durable to serve
    expect(h.acks).toEqual([]);

    h.makeDurable();
    await h.settle();
    expect(h.ackSummary()).toEqual([['l0', 0, AckError.OK]]);
    expect(carried(waiting.value)).toEqual([0, 1]); // the durable write woke the held fetch
    h.fetch('b', 1);
    await h.settle();
    expect(h.ackSummary()).toEqual([
      ['l0', 0, AckError.OK],
      ['x1', 1, AckError.OK],
    ]);
    await h.stop();
  });

  it('acks the ALL publishes of successive appends as the high watermark covers each whole append, in order', async () => {
    const h = await startLeader({ followers: ['b'] });
    h.publish('x0', AckPolicy.ALL);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    h.publish('x2', AckPolicy.ALL);
    await h.settle();
    const first = h.fetch('b', -1);
    await h.settle();
    expect(carried(first.value)).toEqual([0, 2]);

    h.fetch('b', 0);
    await h.settle();
    expect(h.log.highWatermark).toBe(0);
    expect(h.acks).toEqual([]); // the first append (0-1) is not wholly committed
    h.fetch('b', 1);
    await h.settle();
    expect(h.ackSummary()).toEqual([
      ['x0', 0, AckError.OK],
      ['x1', 1, AckError.OK],
    ]);
    h.fetch('b', 2);
    await h.settle();
    expect(h.ackSummary().map(([id]) => id)).toEqual(['x0', 'x1', 'x2']);
    await h.stop();
  });

  it('commits at once while the ISR is the leader alone (minIsr 1): followers out of the ISR do not hold ALL acks', async () => {
    const h = await startLeader({ followers: ['b'], isr: ['a'] });
    h.publish('x0', AckPolicy.ALL);
    await h.settle();
    expect(h.ackSummary()).toEqual([['x0', 0, AckError.OK]]);
    expect(h.log.highWatermark).toBe(0);
    await h.stop();
  });

  it('commits nothing while the ISR is smaller than minIsr: ALL acks wait for the ISR to grow, LEADER acks go on', async () => {
    const h = await startLeader({ followers: ['b'], isr: ['a'], minIsr: 2, isrChangeAnswer: () => new Promise(() => undefined) });
    h.publish('x0', AckPolicy.ALL);
    h.publish('l1', AckPolicy.LEADER);
    await h.settle();
    h.publish('x2', AckPolicy.ALL);
    await h.settle();
    await copyAndReport(h, 'b');
    await h.time.advance(30_000);
    expect(h.ackSummary()).toEqual([['l1', 1, AckError.OK]]);
    expect(h.log.highWatermark).toBe(-1);
    // Logged once, not for every append.
    expect(h.lines.filter((l) => l.msg === 'ISR below minIsr: nothing commits')).toHaveLength(1);

    // The caught-up follower was proposed for the ISR; once the metadata records it, both ALL appends commit.
    expect(h.isrRequests.map((r) => [r.type, r.replica])).toEqual([['ExpandIsr', 'b']]);
    h.leader.updateIsr(['a', 'b']);
    await h.settle();
    expect(h.ackSummary()).toEqual([
      ['l1', 1, AckError.OK],
      ['x0', 0, AckError.OK],
      ['x2', 2, AckError.OK],
    ]);
    expect(h.log.highWatermark).toBe(2);
    await h.stop();
  });

  it('drops, unsent, the ALL acks still waiting when it stops, and answers no follower and no publisher after', async () => {
    const h = await startLeader({ followers: ['b', 'c'] });
    h.publish('x0', AckPolicy.ALL);
    h.publish('l1', AckPolicy.LEADER);
    await h.settle();
    expect(h.ackSummary()).toEqual([['l1', 1, AckError.OK]]);
    const waiting = await copyAndReport(h, 'b'); // caught up: held open for new records
    const copied = h.fetch('c', -1);
    await h.settle();
    expect(carried(copied.value)).toEqual([0, 1]);

    await h.stop();
    // c stores x0 and reports it: a new leader may commit x0, the stopped one must not answer for it either way.
    const late = h.fetch('c', 1);
    h.publish('after', AckPolicy.LEADER);
    await h.time.advance(5_000);
    expect(late.error).toBeInstanceOf(ReplicationUnavailableError); // nobody serves the partition now ("no responders")
    expect(waiting.settled).toBe(false); // the held fetch is left unanswered: it times out on the follower's side
    expect(h.ackSummary()).toEqual([['l1', 1, AckError.OK]]);
    expect([h.log.newestOffset, h.log.highWatermark]).toEqual([1, -1]);
  });

  it('stopped while still starting, ends up serving no follower, taking no publish and holding no timer', async () => {
    const h = await startLeader({ followers: ['b'], stopDuringStart: true });
    expect(h.time.pendingTimers).toBe(0);
    const fetch = h.fetch('b', -1);
    h.publish('l0', AckPolicy.LEADER);
    await h.time.advance(30_000);
    expect(fetch.error).toBeInstanceOf(ReplicationUnavailableError);
    expect([h.acks, h.log.newestOffset, h.isrRequests]).toEqual([[], -1, []]);
  });
});

/** A lease the test grants and revokes. */
function manualLease(): AckLease & { grant(): void; revoke(): void } {
  let held = true;
  let waiters: (() => void)[] = [];
  return {
    holds: () => held,
    whenHeld: () => (held ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    grant: () => {
      held = true;
      for (const w of waiters.splice(0)) w();
    },
    revoke: () => {
      held = false;
      waiters = [];
    },
  };
}

describe('a replicated partition leader without confirmed metadata contact (its ack lease lapsed)', () => {
  it('holds every ack back and sends them, in order, once the lease holds again', async () => {
    const lease = manualLease();
    const h = await startLeader({ followers: ['b'], isr: ['a'], ackLease: lease });
    lease.revoke();
    h.publish('l0', AckPolicy.LEADER);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    h.publish('l2', AckPolicy.LEADER);
    await h.settle();
    await h.time.advance(2_000);
    expect(h.acks).toEqual([]);
    expect(h.log.newestOffset).toBe(2);
    expect(h.lines.filter((l) => l.msg === 'metadata contact not confirmed: holding acknowledgements')).toHaveLength(1);

    lease.grant();
    await h.settle();
    expect(h.ackSummary()).toEqual([
      ['l0', 0, AckError.OK],
      ['x1', 1, AckError.OK],
      ['l2', 2, AckError.OK],
    ]);
    await h.stop();
  });

  it('sends none of the held acks when it is stopped before the lease holds again (it may have been replaced)', async () => {
    const lease = manualLease();
    const h = await startLeader({ followers: ['b'], isr: ['a'], ackLease: lease });
    lease.revoke();
    h.publish('l0', AckPolicy.LEADER);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    await h.stop();
    lease.grant();
    await h.time.advance(1_000);
    expect(h.acks).toEqual([]);
  });
});

describe('the Publish RPC over a partition leader whose ISR is below minIsr', () => {
  it('answers an ALL publish AckTimeout at its deadline, while a LEADER publish is acked', async () => {
    const h = await startLeader({ followers: ['b'], isr: ['a'], minIsr: 2, isrChangeAnswer: () => new Promise(() => undefined) });
    const metadata = { state: stateAfter(registerBroker('a'), createStream('orders', { subject: SUBJECT })) } as unknown as MetadataService;
    const publisher = new PublishHandler(
      metadata,
      {} as StreamAdminHandler,
      h.transport as InMemoryMessageTransport,
      h.time,
      memorySettings(),
      { anyNotStarted: false } as unknown as PartitionSupervisor,
    );
    const request = (correlationId: string, ackPolicy: AckPolicy) => ({
      key: null,
      value: Buffer.from(correlationId),
      stream: 'orders',
      partition: 0,
      headers: null,
      ackInbox: '',
      correlationId,
      ackPolicy,
      expectedOffset: -1,
    });
    let all: unknown = 'pending';
    void publisher.publish(request('x0', AckPolicy.ALL), 2_000).then((r) => (all = r));
    const leader = publisher.publish(request('l1', AckPolicy.LEADER), 2_000);
    await h.settle();
    expect(await leader).toMatchObject({ ok: true, value: { correlationId: 'l1', offset: 1, ackError: AckError.OK } });

    await h.time.advance(1_990);
    expect(all).toBe('pending');
    await h.time.advance(10);
    expect(all).toEqual({ ok: false, error: { kind: 'AckTimeout' } });
    // Stored on the leader, never committed.
    expect([h.log.newestOffset, h.log.highWatermark]).toEqual([1, -1]);
    await h.stop();
  });
});
