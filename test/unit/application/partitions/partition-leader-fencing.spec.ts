import { AckError, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import type { PartitionLog } from '../../../../src/application/ports/partition-log.port';
import { ReplicationUnavailableError } from '../../../../src/application/ports/replication-transport.port';
import { carried, startLeader, SUBJECT } from './partition-leader-fixture';

/**
 * What a partition leader refuses or ignores, on virtual time: followers of another leader epoch
 * and servers that are not replicas (docs/replication.md "The protocol step by step"), publishes
 * whose expected offset is not the next one (optimistic concurrency control), and publishes to a
 * read-only or closed (paused, deleted) partition.
 */

/** `count` records of a previous leader in `epoch`, durable, committed up to `highWatermark`. */
const previousLeader =
  (epoch: number, count: number, highWatermark: number) =>
  async (log: PartitionLog): Promise<void> => {
    log.beginLeaderEpoch(epoch);
    const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`old${i}`), headers: null, subject: SUBJECT, reply: '' }));
    await log.append(records, 1n, epoch).durable;
    if (highWatermark >= 0) log.setHighWatermark(highWatermark);
  };

describe('a partition leader fences followers of other leader epochs', () => {
  it.each([
    ['an older epoch (a follower of the previous leader)', 1],
    ['a newer epoch (this leader was replaced)', 3],
  ])('does not answer a fetch for %s, and the fetch does not count for the commit', async (_which, epoch) => {
    const h = await startLeader({ followers: ['b'], leaderEpoch: 2 });
    h.publish('x0', AckPolicy.ALL);
    await h.settle();
    const fenced = h.fetch('b', 0, epoch);
    await h.time.advance(59_999);
    expect(fenced.settled).toBe(false);
    await h.time.advance(1);
    expect(fenced.error).toBeInstanceOf(ReplicationUnavailableError); // timed out, as an unanswered NATS request
    expect([h.ackOf('x0'), h.log.highWatermark]).toEqual([undefined, -1]);

    h.fetch('b', 0, 2);
    await h.settle();
    expect(h.ackSummary()).toEqual([['x0', 0, AckError.OK]]);
    expect(h.log.highWatermark).toBe(0);
    await h.stop();
  });

  it('does not answer a server that is not a replica of the partition', async () => {
    const h = await startLeader({ followers: ['b'] });
    h.publish('x0', AckPolicy.ALL);
    await h.settle();
    const stranger = h.fetch('z', 0);
    await h.time.advance(60_000);
    expect(stranger.error).toBeInstanceOf(ReplicationUnavailableError);
    expect(h.log.highWatermark).toBe(-1);
    await h.stop();
  });

  it('tells a follower of its epoch where an earlier epoch ends in its log (docs/replication.md "Truncation"); a follower of another epoch gets no answer', async () => {
    const h = await startLeader({ followers: ['b'], leaderEpoch: 4, before: previousLeader(1, 3, 0) });
    h.publish('new');
    await h.settle();
    const asked = [1, 2, 4].map((epoch) => h.epochEnd('b', epoch, 4));
    const fenced = h.epochEnd('b', 1, 3);
    await h.settle();
    // Epoch 1 ends where epoch 4 (this leader's, begun at start) starts; nothing is known between.
    expect(asked.map((a) => a.value)).toEqual([
      { leaderEpoch: 1, endOffset: 3 },
      { leaderEpoch: 1, endOffset: 3 },
      { leaderEpoch: 4, endOffset: 4 },
    ]);
    await h.time.advance(60_000);
    expect(fenced.error).toBeInstanceOf(ReplicationUnavailableError);
    await h.stop();
  });

  it('commits what an earlier leader left above the high watermark only once the ISR holds it', async () => {
    const h = await startLeader({ followers: ['b'], leaderEpoch: 2, before: previousLeader(1, 3, 0) });
    expect(h.log.highWatermark).toBe(0);
    h.publish('x3', AckPolicy.ALL);
    await h.settle();
    expect(h.log.highWatermark).toBe(0);
    const behind = h.fetch('b', 0);
    await h.settle();
    expect(carried(behind.value)).toEqual([1, 3]);
    expect(h.log.highWatermark).toBe(0);
    h.fetch('b', 3);
    await h.settle();
    expect(h.log.highWatermark).toBe(3);
    expect(h.ackSummary()).toEqual([['x3', 3, AckError.OK]]);
    await h.stop();
  });
});

describe('a partition leader with optimistic concurrency control', () => {
  it('stores a record only at the offset its publisher expected; the others get INCORRECT_OFFSET', async () => {
    const h = await startLeader({ concurrencyControl: true });
    h.publish('e0', AckPolicy.LEADER, { expectedOffset: 0 });
    h.publish('e1', AckPolicy.LEADER, { expectedOffset: 1 });
    h.publish('stale', AckPolicy.LEADER, { expectedOffset: 1 });
    h.publish('e2', AckPolicy.ALL, { expectedOffset: 2 });
    h.publish('any', AckPolicy.LEADER, { expectedOffset: -1 });
    await h.settle();
    h.publish('e4', AckPolicy.LEADER, { expectedOffset: 4 });
    h.publish('ahead', AckPolicy.LEADER, { expectedOffset: 9 });
    await h.settle();
    const outcome = ['e0', 'e1', 'stale', 'e2', 'any', 'e4', 'ahead'].map((id) => [id, h.ackOf(id)?.offset, h.ackOf(id)?.ackError]);
    expect(outcome).toEqual([
      ['e0', 0, AckError.OK],
      ['e1', 1, AckError.OK],
      ['stale', 0, AckError.INCORRECT_OFFSET],
      ['e2', 2, AckError.OK],
      ['any', 3, AckError.OK],
      ['e4', 4, AckError.OK],
      ['ahead', 0, AckError.INCORRECT_OFFSET],
    ]);
    expect(h.log.newestOffset).toBe(4);
    // A refusal says when it was decided (a TOO_LARGE refusal does not).
    expect(h.ackOf('stale')!.commitTimestampNs).toBe(h.ackOf('stale')!.receptionTimestampNs);
    await h.stop();
  });

  it('ignores expected offsets when the stream does not use concurrency control', async () => {
    const h = await startLeader({ concurrencyControl: false });
    h.publish('m0', AckPolicy.LEADER, { expectedOffset: 7 });
    await h.settle();
    expect(h.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    await h.stop();
  });
});

describe('a partition leader whose log does not take writes', () => {
  it('drops NATS publishes to a read-only partition without an ack and logs them; once writable it takes them again', async () => {
    const h = await startLeader();
    h.log.setReadonly(true);
    h.publish('r0');
    h.publish('r1', AckPolicy.ALL);
    await h.settle();
    expect([h.acks, h.log.newestOffset]).toEqual([[], -1]);
    expect(h.lines.filter((l) => l.level === 'error').map((l) => [l.msg, l.obj.count])).toEqual([['dropping messages published to a read-only partition', 2]]);

    h.log.setReadonly(false);
    h.publish('w0');
    await h.settle();
    expect(h.ackSummary()).toEqual([['w0', 0, AckError.OK]]);
    await h.stop();
  });

  it('takes nothing once its log is closed (the partition was paused or deleted), and says nothing about it', async () => {
    const h = await startLeader();
    await h.log.close('closed');
    h.publish('p0');
    await h.settle();
    expect(h.acks).toEqual([]);
    expect(h.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    await h.stop();
  });

  it('sends no ack for a write that became durable after its log was closed', async () => {
    const h = await startLeader({ followers: ['b'], isr: ['a'], heldDurability: true });
    h.publish('l0', AckPolicy.LEADER);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    await h.log.close('closed');
    h.makeDurable();
    await h.time.advance(1_000);
    expect(h.acks).toEqual([]);
    await h.stop();
  });
});
