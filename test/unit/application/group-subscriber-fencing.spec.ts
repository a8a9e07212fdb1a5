import { Container } from 'inversify';
import { subscribeQuery } from '../../support/subscribe-query';
import { AckPolicy } from '../../../src/application/ports/message-transport.port';
import { RecordBatch } from '../../../src/application/ports/partition-log.port';
import { GroupSubscribers } from '../../../src/application/partitions/group-subscribers';
import { PartitionSupervisor } from '../../../src/application/partitions/partition-supervisor';
import { PublishHandler } from '../../../src/application/use-cases/publish';
import { StreamAdminHandler } from '../../../src/application/use-cases/stream-admin';
import { StartPosition, StopPosition, SubscribeHandler, SubscribeQuery, SubscriptionEnd } from '../../../src/application/use-cases/subscribe';
import { freshAdapters, startMemoryBroker, stopMemoryBroker } from '../../support/memory-broker';
import { flushPromises } from '../../support/virtual-time';

/**
 * Partition ownership fencing (docs/consumers.md "Fencing"): one subscriber per consumer group and
 * partition at the partition leader; a newer (or equal) group epoch replaces the current one, an
 * older one is refused while a newer one is open.
 */

const REF = { stream: 'orders', partition: 0 };

const query = (overrides: Partial<SubscribeQuery> = {}): SubscribeQuery =>
  subscribeQuery(REF.stream, { partition: REF.partition, startPosition: StartPosition.NEW_ONLY, stopPosition: StopPosition.STOP_ON_CANCEL, ...overrides });

const member = (groupId: string, consumerId: string, epoch: bigint): Partial<SubscribeQuery> => ({ consumerGroupId: groupId, consumerId, consumerGroupEpoch: epoch });

/** A subscription being pumped: what it received, how it ended, and how to cancel it. */
interface Running {
  readonly offsets: number[];
  readonly end: Promise<SubscriptionEnd>;
  ended: SubscriptionEnd | null;
  cancel(): void;
}

describe('consumer-group fencing at the partition leader', () => {
  let broker: Container;
  const subscribe = async (overrides: Partial<SubscribeQuery>): Promise<Running> => {
    const opened = await broker.get(SubscribeHandler).open(query(overrides));
    if (!opened.ok) throw new Error(opened.error.kind);
    const abort = new AbortController();
    const offsets: number[] = [];
    const running: Running = {
      offsets,
      ended: null,
      end: opened.value.pump({ write: (batch: RecordBatch) => void offsets.push(batch.lastOffset) }, abort.signal),
      cancel: () => abort.abort(),
    };
    void running.end.then((end) => (running.ended = end));
    await flushPromises();
    return running;
  };
  const publish = async (): Promise<void> => {
    const published = await broker.get(PublishHandler).publish(
      { key: null, value: Buffer.from('m'), ...REF, headers: null, ackInbox: '', correlationId: 'm', ackPolicy: AckPolicy.LEADER, expectedOffset: -1 },
      5000,
    );
    expect(published.ok).toBe(true);
    await flushPromises();
  };
  const registry = (): GroupSubscribers => broker.get(PartitionSupervisor).groupSubscribers;

  beforeEach(async () => {
    broker = await startMemoryBroker(freshAdapters());
    await broker.get(StreamAdminHandler).createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 2, config: {} });
  });
  afterEach(async () => {
    await stopMemoryBroker(broker);
  });

  it('ends the current subscriber of a group when one of a newer epoch subscribes', async () => {
    const older = await subscribe(member('g', 'a', 5n));
    const newer = await subscribe(member('g', 'b', 6n));
    expect(await older.end).toEqual({ kind: 'Replaced' });
    expect(registry().holder(REF, 'g')).toEqual({ groupId: 'g', consumerId: 'b', groupEpoch: 6n });
    await publish();
    expect(newer.offsets).toEqual([0]);
    expect(older.offsets).toEqual([]);
    newer.cancel();
    expect(await newer.end).toEqual({ kind: 'Cancelled' });
  });

  it('refuses a subscriber of an older epoch while one of a newer epoch is open, which goes on', async () => {
    const newer = await subscribe(member('g', 'b', 6n));
    const stale = await broker.get(SubscribeHandler).open(query(member('g', 'a', 5n)));
    expect(stale).toEqual({ ok: false, error: { kind: 'ConsumerNotAssigned' } });
    await publish();
    expect(newer.offsets).toEqual([0]);
    expect(newer.ended).toBeNull();
    newer.cancel();
    await newer.end;
  });

  it('lets a subscriber of the same epoch replace the current one, whichever consumer it is', async () => {
    // Only a strictly higher epoch refuses; an equal one is the same assignment (a member
    // resubscribing after a broken connection, or a new member before the old one learnt the epoch).
    const first = await subscribe(member('g', 'a', 7n));
    const second = await subscribe(member('g', 'b', 7n));
    expect(await first.end).toEqual({ kind: 'Replaced' });
    const again = await subscribe(member('g', 'b', 7n));
    expect(await second.end).toEqual({ kind: 'Replaced' });
    expect(registry().holder(REF, 'g')?.consumerId).toBe('b');
    again.cancel();
    await again.end;
  });

  it('lets subscribers of different groups, and of other partitions, coexist', async () => {
    const one = await subscribe(member('g1', 'a', 9n));
    const two = await subscribe(member('g2', 'a', 1n));
    const otherPartition = await subscribe({ ...member('g1', 'b', 1n), partition: 1 });
    await publish();
    expect(one.offsets).toEqual([0]);
    expect(two.offsets).toEqual([0]);
    expect([one.ended, two.ended, otherPartition.ended]).toEqual([null, null, null]);
    expect(registry().size).toBe(3);
    for (const s of [one, two, otherPartition]) s.cancel();
    await Promise.all([one.end, two.end, otherPartition.end]);
  });

  it('leaves plain subscriptions alone', async () => {
    const plain = await subscribe({});
    const grouped = await subscribe(member('g', 'a', 1n));
    const replacing = await subscribe(member('g', 'b', 2n));
    expect(await grouped.end).toEqual({ kind: 'Replaced' });
    await publish();
    expect(plain.offsets).toEqual([0]);
    expect(plain.ended).toBeNull();
    expect(registry().size).toBe(1);
    plain.cancel();
    replacing.cancel();
    await Promise.all([plain.end, replacing.end]);
  });

  it('forgets a subscriber once its subscription ended, so an older epoch is admitted again', async () => {
    const newer = await subscribe(member('g', 'b', 6n));
    newer.cancel();
    expect(await newer.end).toEqual({ kind: 'Cancelled' });
    expect(registry().size).toBe(0);
    const older = await subscribe(member('g', 'a', 5n));
    expect(registry().holder(REF, 'g')?.consumerId).toBe('a');
    older.cancel();
    await older.end;
    expect(registry().size).toBe(0);
  });

  it('ends a replaced subscriber that waits for its client to read', async () => {
    const opened = await broker.get(SubscribeHandler).open(query(member('g', 'a', 1n)));
    if (!opened.ok) throw new Error(opened.error.kind);
    let writes = 0;
    const neverTaken = new Promise<void>(() => undefined);
    const stuck = opened.value.pump(
      {
        write: () => {
          writes++;
          return neverTaken;
        },
      },
      new AbortController().signal,
    );
    await publish();
    expect(writes).toBe(1); // its client never takes this batch
    const newer = await subscribe(member('g', 'b', 2n));
    expect(await stuck).toEqual({ kind: 'Replaced' });
    newer.cancel();
    await newer.end;
  });

  it('checks the fencing after the partition, before the start position', async () => {
    const newer = await subscribe(member('g', 'b', 6n));
    const stale = await broker.get(SubscribeHandler).open(query({ ...member('g', 'a', 5n), startPosition: 99 }));
    expect(stale).toEqual({ ok: false, error: { kind: 'ConsumerNotAssigned' } });
    const unknown = await broker.get(SubscribeHandler).open(query({ ...member('g', 'a', 5n), partition: 7 }));
    expect(unknown).toEqual({ ok: false, error: { kind: 'SubscribePartitionUnknown' } });
    newer.cancel();
    await newer.end;
  });
});

describe('the group subscriber registry', () => {
  const consumer = (consumerId: string, groupEpoch: bigint) => ({ groupId: 'g', consumerId, groupEpoch });

  it('keeps a released claim from removing the subscriber that replaced it', () => {
    const registry = new GroupSubscribers();
    const first = registry.claim(REF, consumer('a', 1n));
    const second = registry.claim(REF, consumer('b', 2n));
    expect([first.replaced, second.replaced]).toEqual([true, false]);
    first.release();
    expect(registry.holder(REF, 'g')?.consumerId).toBe('b');
    expect(registry.admits(REF, consumer('a', 1n))).toBe(false);
    expect(registry.admits(REF, consumer('c', 2n))).toBe(true);
    second.release();
    expect(registry.size).toBe(0);
  });
});
