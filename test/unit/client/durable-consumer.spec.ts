import { CheckpointTimer, CursorClient, DurableConsumer } from '../../../src/client/durable-consumer';
import { firstValueFrom, take, toArray } from 'rxjs';
import { observeIterable } from '../../../src/client/observe-iterable';
import { waitFor } from '../../support/wait-for';
import { StartPosition, type CursorAddress, type ReceivedMessage, type SubscribeOptions } from '../../../src/client/types';

/** A partition of `count` messages (offsets 0..count-1) and a cursor store, in memory. */
class FakeCursorClient implements CursorClient {
  readonly cursors = new Map<string, bigint>();
  readonly writes: bigint[] = [];
  subscribedWith: SubscribeOptions | null = null;

  constructor(private readonly count: number) {}

  async fetchCursor(c: CursorAddress): Promise<bigint> {
    return this.cursors.get(`${c.id},${c.stream},${c.partition ?? 0}`) ?? -1n;
  }

  async setCursor(c: CursorAddress & { readonly offset: bigint }): Promise<void> {
    this.writes.push(c.offset);
    this.cursors.set(`${c.id},${c.stream},${c.partition ?? 0}`, c.offset);
  }

  subscribe(stream: string, options: SubscribeOptions): AsyncIterable<ReceivedMessage> & { close(): void } {
    this.subscribedWith = options;
    const from = options.startOffset === undefined ? 0 : Number(options.startOffset);
    const count = this.count;
    let closed = false;
    return {
      close: () => (closed = true),
      async *[Symbol.asyncIterator]() {
        for (let offset = from; offset < count && !closed; offset++) yield { stream, partition: 0, offset: BigInt(offset) } as unknown as ReceivedMessage;
      },
    };
  }
}

/** A timer the test fires by hand. */
class ManualTimer implements CheckpointTimer {
  private readonly ticks = new Set<() => void>();
  every(_ms: number, fn: () => void): { cancel(): void } {
    this.ticks.add(fn);
    return { cancel: () => this.ticks.delete(fn) };
  }
  fire(): void {
    for (const fn of this.ticks) fn();
  }
  get active(): number {
    return this.ticks.size;
  }
}

const offsets = async (consumer: DurableConsumer, stopAfter: number): Promise<bigint[]> => {
  const seen: bigint[] = [];
  for await (const m of consumer) {
    seen.push(m.offset);
    if (seen.length === stopAfter) break;
  }
  return seen;
};

describe('DurableConsumer: a partition read from its cursor + 1, checkpointed by count, by time and on close', () => {
  it('starts where the cursor says, and with no cursor at the configured position', async () => {
    const client = new FakeCursorClient(10);
    await offsets(new DurableConsumer(client, { id: 'c', stream: 's', whenNoCursor: StartPosition.EARLIEST }, new ManualTimer()), 1);
    expect(client.subscribedWith).toEqual({ partition: 0, startPosition: StartPosition.EARLIEST });

    client.cursors.set('c,s,0', 6n);
    expect(await offsets(new DurableConsumer(client, { id: 'c', stream: 's' }, new ManualTimer()), 100)).toEqual([7n, 8n, 9n]);
    expect(client.subscribedWith).toEqual({ partition: 0, startOffset: 7n });
  });

  it('checkpoints every N processed messages, and the last one on break; a new consumer resumes with no gap and no repeat', async () => {
    const client = new FakeCursorClient(100);
    client.cursors.set('c,s,0', -1n);
    const first = await offsets(new DurableConsumer(client, { id: 'c', stream: 's', checkpointEveryMessages: 10, whenNoCursor: StartPosition.EARLIEST }, new ManualTimer()), 25);
    expect(first).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i)));
    // 10 and 20 processed (offsets 9 and 19), then the break after offset 24.
    expect(client.writes).toEqual([9n, 19n, 24n]);

    const second = await offsets(new DurableConsumer(client, { id: 'c', stream: 's', checkpointEveryMessages: 0 }, new ManualTimer()), 5);
    expect(second).toEqual([25n, 26n, 27n, 28n, 29n]);
  });

  it('checkpoints by time what was processed since the last one, and stops its timer at the end', async () => {
    const client = new FakeCursorClient(100);
    client.cursors.set('c,s,0', 49n);
    const timer = new ManualTimer();
    const consumer = new DurableConsumer(client, { id: 'c', stream: 's', checkpointEveryMessages: 0, checkpointEveryMs: 1000 }, timer);
    const iterator = consumer[Symbol.asyncIterator]();
    await iterator.next(); // 50 in hand
    timer.fire();
    await consumer.checkpoint();
    expect(client.writes).toEqual([]); // nothing processed yet

    await iterator.next(); // 50 processed, 51 in hand
    timer.fire();
    await consumer.checkpoint();
    expect(client.writes).toEqual([50n]);
    timer.fire();
    await consumer.checkpoint();
    expect(client.writes).toEqual([50n]); // unchanged: not written again

    consumer.close();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(client.writes).toEqual([50n, 51n]);
    expect(consumer.lastCheckpoint).toBe(51n);
    expect(timer.active).toBe(0);
  });

  it('as an Observable: a message is processed once next returned; unsubscribing (take) checkpoints the last one and closes the subscription', async () => {
    const client = new FakeCursorClient(100);
    client.cursors.set('c,s,0', 9n);
    const consumer = new DurableConsumer(client, { id: 'c', stream: 's', checkpointEveryMessages: 3, checkpointEveryMs: 0 }, new ManualTimer());
    const seen = await firstValueFrom(observeIterable(() => consumer).pipe(take(5), toArray()));
    expect(seen.map((m) => m.offset)).toEqual([10n, 11n, 12n, 13n, 14n]);
    await waitFor(() => consumer.lastCheckpoint === 14n, 2000, 'the checkpoint on unsubscribe');
    expect(client.writes).toEqual([12n, 14n]);
  });
});
