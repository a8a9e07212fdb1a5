import * as grpc from '@grpc/grpc-js';
import { StartPosition } from '../../../src/protocol/api-types';
import { BrokerUnavailableError, NotLeaderError, PartitionPausedError, StreamDeletedError } from '../../../src/client/errors';
import { Subscription } from '../../../src/client/subscription';
import { toSubscribeRequest, ReceivedMessage } from '../../../src/client/types';
import { FakeRouter } from './fakes';

const settings = { highWaterMark: 4, resubscribeWaitMs: 1_000 };

async function collect(subscription: Subscription, n: number): Promise<bigint[]> {
  const out: bigint[] = [];
  if (n === 0) return out;
  for await (const m of subscription as AsyncIterable<ReceivedMessage>) {
    out.push(m.offset);
    if (out.length === n) break;
  }
  return out;
}

describe('Subscription', () => {
  it('swallows the handshake and delivers messages in order', async () => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s', { startPosition: StartPosition.EARLIEST }), settings);
    const call = await router.nextSubscribeCall(0);
    call.handshake();
    await sub.ready;
    for (let i = 0n; i < 10n; i++) call.message(i);
    expect(await collect(sub, 10)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(call.cancelled).toBe(true);
  });

  it('resubscribes from last offset + 1 on UNAVAILABLE and drops redelivered offsets', async () => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s', { startPosition: StartPosition.EARLIEST }), settings);
    const first = await router.nextSubscribeCall(0);
    first.handshake();
    first.message(0n);
    first.message(1n);
    first.message(2n);
    const received = collect(sub, 6);
    first.finishWith(grpc.status.UNAVAILABLE, 'connection dropped');
    const second = await router.nextSubscribeCall(1);
    expect(second.request).toMatchObject({ startPosition: StartPosition.OFFSET, startOffset: 3n });
    second.handshake();
    second.message(1n); // a server answering from an older position must not cause duplicates
    second.message(2n);
    second.message(3n);
    second.message(4n);
    second.finishWith(grpc.status.INTERNAL, 'commit log was closed'); // leader moved
    const third = await router.nextSubscribeCall(2);
    expect(third.request.startOffset).toBe(5n);
    third.handshake();
    third.message(5n);
    expect(await received).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    expect(sub.connections).toBe(3);
    expect(router.refreshes).toBeGreaterThanOrEqual(2);
  });

  it('retries not-leader answers before the handshake a bounded number of times', async () => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s'), settings);
    for (let i = 0; i < router.retry.attempts; i++) {
      (await router.nextSubscribeCall(i)).finishWith(grpc.status.FAILED_PRECONDITION, 'Server not partition leader');
    }
    await expect(sub.ready).rejects.toBeInstanceOf(NotLeaderError);
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(NotLeaderError);
    expect(router.subscribeCalls).toHaveLength(router.retry.attempts);
  });

  it('gives up resubscribing after resubscribeWaitMs', async () => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s'), { highWaterMark: 4, resubscribeWaitMs: 30 });
    const first = await router.nextSubscribeCall(0);
    first.handshake();
    first.message(0n);
    const iterator = sub[Symbol.asyncIterator]();
    expect((await iterator.next()).value!.offset).toBe(0n);
    first.finishWith(grpc.status.UNAVAILABLE, 'gone');
    router.callCreated.on('subscribe', (call) => setImmediate(() => call.finishWith(grpc.status.UNAVAILABLE, 'still gone')));
    await expect(iterator.next()).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it.each([
    [grpc.status.RESOURCE_EXHAUSTED, 'Stop offset reached', null],
    [grpc.status.RESOURCE_EXHAUSTED, 'End of readonly partition', null],
    [grpc.status.OK, '', null],
    [grpc.status.NOT_FOUND, 'commit log was deleted', StreamDeletedError],
    [grpc.status.FAILED_PRECONDITION, 'commit log was closed', PartitionPausedError],
  ])('after delivery, status %i %j ends the iteration with %p', async (code, details, type) => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s', { startPosition: StartPosition.EARLIEST }), settings);
    const call = await router.nextSubscribeCall(0);
    call.handshake();
    for (let i = 0n; i < 6n; i++) call.message(i); // more than highWaterMark: some stay buffered in the call
    call.finishWith(code, details);
    const got: bigint[] = [];
    const run = (async () => {
      for await (const m of sub) got.push(m.offset);
    })();
    if (type) await expect(run).rejects.toBeInstanceOf(type);
    else await run;
    expect(got).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    expect(router.subscribeCalls).toHaveLength(1);
  });

  it('close() completes a pending next() and cancels the call', async () => {
    const router = new FakeRouter();
    const sub = new Subscription(router, toSubscribeRequest('s'), settings);
    const call = await router.nextSubscribeCall(0);
    call.handshake();
    await sub.ready;
    const pending = sub[Symbol.asyncIterator]().next();
    sub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(call.cancelled).toBe(true);
    expect(await sub[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });
});
