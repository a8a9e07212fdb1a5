import { waitFor } from '../../support/wait-for';
import { GroupClient, GroupConsumer, groupCursorId } from '../../../src/client/group-consumer';
import { observeIterable } from '../../../src/client/observe-iterable';
import { StartPosition, type ReceivedMessage, type SubscribeOptions } from '../../../src/client/types';
import type { PartitionAssignment } from '../../../src/protocol/api-types';
import { flushPromises, VirtualTime } from '../../support/virtual-time';

const NS_PER_MS = 1_000_000n;

/** A subscription the test feeds: `push` delivers a message, `close` ends it. */
class FedSubscription implements AsyncIterable<ReceivedMessage> {
  closed = false;
  private readonly queue: ReceivedMessage[] = [];
  private wake: (() => void) | null = null;
  constructor(readonly stream: string, readonly options: SubscribeOptions) {}
  push(offset: bigint): void {
    this.queue.push({ stream: this.stream, partition: this.options.partition ?? 0, offset, timestamp: 0n, key: Buffer.alloc(0), value: Buffer.from(`m${offset}`), headers: {}, subject: '', replySubject: '', correlationId: '', ackInbox: '', ackPolicy: 0 });
    this.wake?.();
  }
  close(): void {
    this.closed = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** The servers as one member sees them, steered by the test. */
class FakeGroupServers implements GroupClient {
  coordinator = 'a';
  epoch = 5n;
  assignments: PartitionAssignment[] = [{ stream: 'orders', partitions: [0, 1] }];
  coordinatorDown = false;
  /** The coordinator dropped this member (silent past the consumer timeout): its next fetch is refused. */
  dropped = false;
  readonly cursors = new Map<string, bigint>();
  readonly subscriptions: FedSubscription[] = [];
  readonly reports: string[] = [];
  readonly calls: string[] = [];

  async joinConsumerGroup(groupId: string, consumerId: string, streams: readonly string[]) {
    this.calls.push(`join ${groupId} ${consumerId} ${streams.join(',')}`);
    return { coordinator: this.coordinator, epoch: this.epoch, consumerTimeout: 10_000n * NS_PER_MS, coordinatorTimeout: 15_000n * NS_PER_MS };
  }
  async fetchConsumerGroupAssignments(coordinator: string, _groupId: string, _consumerId: string, epoch: bigint) {
    this.calls.push(`fetch ${coordinator} ${epoch}`);
    if (this.dropped) {
      this.dropped = false;
      throw new Error('consumer is not a member of the consumer group');
    }
    if (this.coordinatorDown || coordinator !== this.coordinator) throw new Error('coordinator does not answer');
    return { epoch: this.epoch, assignments: this.assignments };
  }
  async fetchGroupMetadata() {
    return { coordinator: this.coordinator, epoch: this.epoch };
  }
  async reportConsumerGroupCoordinator(_groupId: string, consumerId: string, coordinator: string, epoch: bigint) {
    this.reports.push(`${consumerId} reports ${coordinator}@${epoch}`);
  }
  async leaveConsumerGroup(groupId: string, consumerId: string) {
    this.calls.push(`leave ${groupId} ${consumerId}`);
  }
  async fetchCursor(cursor: { id: string; stream: string; partition?: number }) {
    return this.cursors.get(`${cursor.id}/${cursor.stream}/${cursor.partition ?? 0}`) ?? -1n;
  }
  /** While set, cursor writes hang until `releaseWrites`, keeping their attempt guard for the test. */
  holdWrites = false;
  readonly held: { attemptIf: (() => boolean) | undefined; write: () => void }[] = [];
  async setCursor(cursor: { id: string; stream: string; partition?: number; offset: bigint }, options: { attemptIf?: () => boolean } = {}) {
    const write = () => this.cursors.set(`${cursor.id}/${cursor.stream}/${cursor.partition ?? 0}`, cursor.offset);
    if (!this.holdWrites) return void write();
    await new Promise<void>((resolve) => this.held.push({ attemptIf: options.attemptIf, write: () => (write(), resolve()) }));
  }
  subscribe(stream: string, options: SubscribeOptions) {
    const subscription = new FedSubscription(stream, options);
    this.subscriptions.push(subscription);
    return subscription;
  }
  open(): FedSubscription[] {
    return this.subscriptions.filter((s) => !s.closed);
  }
}

function member(servers: FakeGroupServers, autoOffset?: StartPosition.EARLIEST | 'none') {
  const time = new VirtualTime();
  const consumer = new GroupConsumer(
    servers,
    { groupId: 'g', consumerId: 'c1', streams: ['orders'], ...(autoOffset !== undefined ? { autoOffset } : {}) },
    { after: (ms, fn) => time.setTimeout(fn, ms), nowMs: () => time.elapsedMs },
  );
  return { time, consumer, iterator: consumer[Symbol.asyncIterator]() };
}

describe('GroupConsumer (go-liftbridge Consumer, docs/consumers.md "Consumer groups")', () => {
  it('joins, subscribes to its partitions at its epoch from the group cursor + 1 (else NEW_ONLY), and delivers each message with its stream and partition', async () => {
    const servers = new FakeGroupServers();
    servers.cursors.set(`${groupCursorId('g')}/orders/1`, 41n);
    const { consumer, iterator } = member(servers);
    await consumer.start();
    expect(servers.calls.slice(0, 2)).toEqual(['join g c1 orders', 'fetch a 5']);
    expect(consumer.assigned).toEqual(['orders/0', 'orders/1']);
    const [p0, p1] = servers.subscriptions;
    expect(p0!.options).toMatchObject({ partition: 0, startPosition: StartPosition.NEW_ONLY, consumer: { groupId: 'g', groupEpoch: 5n, consumerId: 'c1' } });
    expect(p1!.options).toMatchObject({ partition: 1, startPosition: StartPosition.OFFSET, startOffset: 42n });
    p1!.push(42n);
    const first = await iterator.next();
    expect(first.value).toMatchObject({ stream: 'orders', partition: 1, offset: 42n });
    await consumer.close();
  });

  it('checkpoints what it delivered every 5 s under __group:<id>, and on close before leaving', async () => {
    const servers = new FakeGroupServers();
    const { time, consumer, iterator } = member(servers);
    await consumer.start();
    servers.subscriptions[0]!.push(7n);
    servers.subscriptions[0]!.push(8n);
    await iterator.next();
    await iterator.next();
    await time.advance(4999);
    expect(servers.cursors.size).toBe(0);
    await time.advance(1);
    expect(servers.cursors.get('__group:g/orders/0')).toBe(8n);
    servers.subscriptions[1]!.push(3n);
    await iterator.next();
    await consumer.close();
    expect(servers.cursors.get('__group:g/orders/1')).toBe(3n);
    expect(servers.calls.at(-1)).toBe('leave g c1');
    expect(servers.open()).toEqual([]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('polls every min(0.4 x the consumer timeout, 500 ms); a new epoch moves its subscriptions: the old ones closed, a kept one checkpointed, a lost one not (its new owner may have moved the cursor on)', async () => {
    const servers = new FakeGroupServers();
    const { time, consumer, iterator } = member(servers);
    await consumer.start();
    servers.subscriptions[1]!.push(10n);
    await iterator.next();
    servers.subscriptions[0]!.push(3n);
    await iterator.next();
    servers.epoch = 9n;
    servers.assignments = [{ stream: 'orders', partitions: [0] }];
    await time.advance(499);
    expect(servers.calls.filter((c) => c.startsWith('fetch'))).toHaveLength(1);
    await time.advance(1);
    await flushPromises();
    expect(servers.calls.filter((c) => c.startsWith('fetch'))).toEqual(['fetch a 5', 'fetch a 5']);
    expect(consumer.assigned).toEqual(['orders/0']);
    expect(servers.cursors.has('__group:g/orders/1')).toBe(false);
    expect(servers.cursors.get('__group:g/orders/0')).toBe(3n);
    expect(servers.open().map((s) => [s.options.partition, s.options.consumer?.groupEpoch])).toEqual([[0, 9n]]);
    await consumer.close();
  });

  it('a partition subscribed again at a new epoch: what the old subscription buffered and the iterator never handed out is dropped, not delivered after the new one', async () => {
    const servers = new FakeGroupServers();
    servers.assignments = [{ stream: 'orders', partitions: [0] }];
    const { time, consumer, iterator } = member(servers);
    await consumer.start();
    const old = servers.subscriptions[0]!;
    for (const offset of [10n, 11n, 12n]) old.push(offset);
    await flushPromises();
    expect((await iterator.next()).value).toMatchObject({ offset: 10n });
    servers.epoch = 9n;
    await time.advance(4000);
    await flushPromises();
    const renewed = servers.open();
    expect(renewed.map((s) => [s.options.startOffset, s.options.consumer?.groupEpoch])).toEqual([[11n, 9n]]);
    for (const offset of [11n, 12n, 13n]) renewed[0]!.push(offset);
    const offsets: bigint[] = [];
    for (let i = 0; i < 3; i++) offsets.push((await iterator.next()).value!.offset);
    expect(offsets).toEqual([11n, 12n, 13n]);
    await consumer.close();
  });

  it('a silent coordinator: retries every 2 s, reports it once silent longer than the coordinator timeout, and follows the metadata to a new one', async () => {
    const servers = new FakeGroupServers();
    const { time, consumer } = member(servers);
    await consumer.start();
    servers.coordinatorDown = true;
    await time.advance(500 + 2000 * 7); // the first poll at 500 ms, then a retry every 2 s: silent 14.5 s
    expect(servers.reports).toEqual([]);
    await time.advance(2000);
    expect(servers.reports).toEqual(['c1 reports a@5']);
    servers.coordinatorDown = false;
    servers.coordinator = 'b';
    servers.epoch = 12n;
    await time.advance(2000);
    await time.advance(2000);
    const toB = servers.calls.filter((c) => c.startsWith('fetch b'));
    expect(toB.length).toBeGreaterThan(0);
    expect(new Set(toB)).toEqual(new Set(['fetch b 12']));
    await consumer.close();
  });

  it('on real timers, a running member keeps the process alive even with nothing assigned (its poll timer is not unref\'d), and leaves no timer once closed', async () => {
    const servers = new FakeGroupServers();
    servers.assignments = [{ stream: 'orders', partitions: [] }];
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const consumer = new GroupConsumer(servers, { groupId: 'g', consumerId: 'c1', streams: ['orders'] });
    await consumer.start();
    expect(consumer.assigned).toEqual([]);
    expect(timers()).toBeGreaterThan(before);
    await consumer.close();
    expect(timers()).toBe(before);
  });

  it("autoOffset 'none' with no cursor ends the iteration with an error naming the partition", async () => {
    const servers = new FakeGroupServers();
    const { time, consumer, iterator } = member(servers, 'none');
    await expect(iterator.next()).rejects.toThrow(/no cursor for orders\/0 in group g/);
    // A failed member stops polling: nothing would keep asking the coordinator for it.
    const fetches = servers.calls.filter((c) => c.startsWith('fetch')).length;
    await time.advance(60_000);
    expect(servers.calls.filter((c) => c.startsWith('fetch'))).toHaveLength(fetches);
    await consumer.close();
  });

  it('a member the coordinator dropped joins again at once and reads its partitions at the new epoch', async () => {
    const servers = new FakeGroupServers();
    const { time, consumer } = member(servers);
    await consumer.start();
    servers.dropped = true;
    servers.epoch = 8n;
    await time.advance(4000);
    await time.advance(1);
    expect(servers.calls.filter((c) => c.startsWith('join'))).toHaveLength(2);
    expect(servers.open().map((s) => s.options.consumer?.groupEpoch)).toEqual([8n, 8n]);
    await consumer.close();
  });

  it('as an Observable: subscribing joins, unsubscribing checkpoints what next returned for and leaves', async () => {
    const servers = new FakeGroupServers();
    const { consumer } = member(servers);
    const seen: bigint[] = [];
    const subscription = observeIterable(() => consumer).subscribe({ next: (m) => seen.push(m.offset) });
    await waitFor(() => servers.subscriptions.length === 2, 2000, 'the subscriptions of the assignment');
    servers.subscriptions[0]!.push(7n);
    await waitFor(() => seen.length === 1, 2000, 'the first message');
    subscription.unsubscribe();
    await waitFor(() => servers.calls.at(-1) === 'leave g c1', 2000, 'the leave');
    expect(servers.cursors.get('__group:g/orders/0')).toBe(7n);
    expect(servers.open()).toEqual([]);
  });

  it('the iteration ends only after the final checkpoint and the leave, so a script can exit right after its loop', async () => {
    const servers = new FakeGroupServers();
    const { consumer, iterator } = member(servers);
    await consumer.start();
    servers.subscriptions[0]!.push(4n);
    await iterator.next();
    const end = iterator.next();
    void consumer.close();
    expect(await end).toEqual({ done: true, value: undefined });
    expect(servers.cursors.get('__group:g/orders/0')).toBe(4n);
    expect(servers.calls.at(-1)).toBe('leave g c1');
  });

  describe('checkpoints across a handover (docs/consumers.md "Checkpoints across a rebalance")', () => {
    it('the timer does not checkpoint a partition subscribed less than the grace ago', async () => {
      const servers = new FakeGroupServers();
      servers.assignments = [{ stream: 'orders', partitions: [0] }];
      const { time, consumer, iterator } = member(servers);
      await consumer.start();
      await time.advance(4000);
      servers.epoch = 6n; // a rebalance that keeps the partition: subscribed again at 4.5 s, at the new epoch
      await time.advance(500);
      await flushPromises();
      const again = servers.subscriptions.at(-1)!;
      expect(again.options.consumer?.groupEpoch).toBe(6n);
      again.push(1n);
      await iterator.next();
      await time.advance(500); // the 5 s tick, 0.5 s after the subscription
      expect(servers.cursors.size).toBe(0);
      await time.advance(5000); // the 10 s tick
      expect(servers.cursors.get('__group:g/orders/0')).toBe(1n);
      await consumer.close();
    });

    it('a subscription the server ended is not checkpointed by the timer; once the coordinator confirms the partition is still ours, it is checkpointed and subscribed again after it', async () => {
      const servers = new FakeGroupServers();
      servers.assignments = [{ stream: 'orders', partitions: [0] }];
      const { time, consumer, iterator } = member(servers);
      await consumer.start();
      const first = servers.subscriptions[0]!;
      first.push(5n);
      await iterator.next();
      servers.coordinatorDown = true; // no poll answers for a while: nothing confirms the partition
      first.close(); // ended by the server (a newer epoch's subscriber, or a leader change), not by the member
      await flushPromises();
      await time.advance(5000); // the timer's tick
      expect(servers.cursors.size).toBe(0);
      servers.coordinatorDown = false;
      await time.advance(2000); // the next poll answers: still ours at this epoch
      await flushPromises();
      expect(servers.cursors.get('__group:g/orders/0')).toBe(5n);
      const again = servers.subscriptions.at(-1)!;
      expect(again).not.toBe(first);
      expect(again.options).toMatchObject({ partition: 0, startOffset: 6n });
      await consumer.close();
    });

    it('no timer checkpoint while the coordinator has not answered for a consumer timeout (the member may have been dropped)', async () => {
      const servers = new FakeGroupServers();
      servers.assignments = [{ stream: 'orders', partitions: [0] }];
      const { time, consumer, iterator } = member(servers);
      await consumer.start();
      const sub = servers.subscriptions[0]!;
      sub.push(5n);
      await iterator.next();
      servers.coordinatorDown = true; // last answer at 0 s; the consumer timeout is 10 s
      await time.advance(5000);
      expect(servers.cursors.get('__group:g/orders/0')).toBe(5n); // 5 s of silence: still a member
      sub.push(6n);
      await iterator.next();
      await time.advance(10_000); // ticks at 10 s (silent 10 s: not over) and 15 s (silent 15 s: over)
      expect(servers.cursors.get('__group:g/orders/0')).toBe(6n);
      sub.push(7n);
      await iterator.next();
      await time.advance(5000); // the 20 s tick: silent 20 s, nothing written
      expect(servers.cursors.get('__group:g/orders/0')).toBe(6n);
      servers.coordinatorDown = false;
      await time.advance(5000); // a poll answers again; the 25 s tick writes
      expect(servers.cursors.get('__group:g/orders/0')).toBe(7n);
      await consumer.close();
    });

    it('a checkpoint in flight when its partition moves away is not retried', async () => {
      const servers = new FakeGroupServers();
      servers.assignments = [{ stream: 'orders', partitions: [0] }];
      const { time, consumer, iterator } = member(servers);
      await consumer.start();
      servers.subscriptions[0]!.push(5n);
      await iterator.next();
      servers.holdWrites = true;
      await time.advance(5000); // the timer's checkpoint starts and hangs
      expect(servers.held).toHaveLength(1);
      expect(servers.held[0]!.attemptIf?.()).toBe(true);
      servers.epoch = 7n;
      servers.assignments = [];
      await time.advance(500); // the poll: the partition moved to another member
      await flushPromises();
      expect(consumer.assigned).toEqual([]);
      expect(servers.held[0]!.attemptIf?.()).toBe(false); // a retry would be abandoned
      servers.holdWrites = false;
      servers.held[0]!.write();
      await consumer.close();
    });
  });
});
