import * as grpc from '@grpc/grpc-js';
import { AckPolicy, PublishAsyncErrorCode } from '../../../src/protocol/api-types';
import { AsyncPublisher } from '../../../src/client/async-publisher';
import {
  AckTimeoutError,
  BrokerUnavailableError,
  ClientClosedError,
  InvalidArgumentError,
  NoSuchPartitionError,
  ReadonlyPartitionError,
} from '../../../src/client/errors';
import { FakeRouter } from './fakes';

const settled = async <T>(promise: Promise<T>): Promise<boolean> => {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('AsyncPublisher', () => {
  it('writes in call order with correlation ids, expectedOffset -1 and LEADER by default', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router);
    const tickets = await Promise.all([publisher.send('s', 'a'), publisher.send('s', 'b', { correlationId: 'mine' })]);
    const call = router.publishCalls[0]!;
    expect(router.publishCalls).toHaveLength(1);
    expect(call.written.map((r) => r.value.toString())).toEqual(['a', 'b']);
    expect(call.written[1]).toMatchObject({ correlationId: 'mine', expectedOffset: -1n, ackPolicy: AckPolicy.LEADER, stream: 's' });
    expect(tickets[0]!.correlationId).toBe(call.written[0]!.correlationId);
    call.ack(call.written[1]!, 1n);
    call.ack(call.written[0]!, 0n);
    expect((await tickets[0]!.ack)!.offset).toBe(0n);
    expect((await tickets[1]!.ack)!.offset).toBe(1n);
    expect(publisher.inFlight).toBe(0);
  });

  it('holds sends beyond the window until acks free room (backpressure)', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { maxInFlight: 2 });
    await publisher.send('s', '0');
    await publisher.send('s', '1');
    const third = publisher.send('s', '2');
    const fourth = publisher.send('s', '3');
    expect(await settled(third)).toBe(false);
    const call = router.publishCalls[0]!;
    expect(call.written).toHaveLength(2);
    call.ack(call.written[0]!, 0n);
    await third;
    expect(await settled(fourth)).toBe(false);
    expect(call.written.map((r) => r.value.toString())).toEqual(['0', '1', '2']);
    call.ack(call.written[1]!, 1n);
    await fourth;
    expect(call.written.map((r) => r.value.toString())).toEqual(['0', '1', '2', '3']);
    expect(publisher.inFlight).toBe(2);
    await publisher.close(0);
  });

  it('does not hold a window slot for AckPolicy.NONE', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { maxInFlight: 1 });
    for (let i = 0; i < 5; i++) expect(await publisher.publish('s', 'x', { ackPolicy: AckPolicy.NONE })).toBeUndefined();
    expect(router.publishCalls[0]!.written).toHaveLength(5);
  });

  it('maps asyncError to typed rejections per message', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router);
    const a = await publisher.send('s', 'a');
    const b = await publisher.send('s', 'b');
    const call = router.publishCalls[0]!;
    call.asyncError(call.written[0]!, PublishAsyncErrorCode.NOT_FOUND, 'no such partition: 3');
    call.asyncError(call.written[1]!, PublishAsyncErrorCode.READONLY, 'readonly partition: 0');
    await expect(a.ack).rejects.toBeInstanceOf(NoSuchPartitionError);
    await expect(b.ack).rejects.toBeInstanceOf(ReadonlyPartitionError);
  });

  it('times out acks that never come and frees their slots', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { maxInFlight: 1, ackWaitTimeMs: 20 });
    const ticket = await publisher.send('s', 'a');
    await expect(ticket.ack).rejects.toBeInstanceOf(AckTimeoutError);
    const next = await publisher.send('s', 'b', { timeoutMs: 10 });
    await expect(next.ack).rejects.toBeInstanceOf(AckTimeoutError);
  });

  it('rejects everything in flight when the stream breaks, then opens a new stream', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router);
    const a = await publisher.send('s', 'a');
    const b = await publisher.send('s', 'b');
    router.publishCalls[0]!.fail(grpc.status.UNAVAILABLE, 'connection dropped');
    await expect(a.ack).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(b.ack).rejects.toMatchObject({ retriable: true });
    const c = await publisher.send('s', 'c');
    expect(router.publishCalls).toHaveLength(2);
    router.publishCalls[1]!.ack(router.publishCalls[1]!.written[0]!, 2n);
    expect((await c.ack)!.offset).toBe(2n);
  });

  it('after a broken stream, sends wait for fresh metadata and go to the new leader (a broker shutting down)', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router);
    const a = await publisher.send('s', 'a');
    router.leaderAfterRefresh = 'c:1';
    router.publishCalls[0]!.fail(grpc.status.UNAVAILABLE, 'server is shutting down');
    await expect(a.ack).rejects.toBeInstanceOf(BrokerUnavailableError);
    const b = publisher.send('s', 'b');
    const c = publisher.send('s', 'c');
    const [tb, tc] = await Promise.all([b, c]);
    expect(router.refreshes).toBe(1);
    expect(router.publishCallAddresses).toEqual(['b:1', 'c:1']);
    expect(router.publishCalls[1]!.written.map((r) => r.value.toString())).toEqual(['b', 'c']); // order kept
    router.publishCalls[1]!.ack(router.publishCalls[1]!.written[0]!, 7n);
    router.publishCalls[1]!.ack(router.publishCalls[1]!.written[1]!, 8n);
    expect([(await tb.ack)!.offset, (await tc.ack)!.offset]).toEqual([7n, 8n]);
  });

  it('an ack timeout refreshes the metadata', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { ackWaitTimeMs: 5 });
    const a = await publisher.send('s', 'a');
    await expect(a.ack).rejects.toBeInstanceOf(AckTimeoutError);
    expect(router.refreshes).toBe(1);
  });

  it('gives the window slot back when a request cannot be built', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { maxInFlight: 1 });
    await expect(publisher.send('s', 'a', { expectedOffset: 1.5 })).rejects.toThrow(RangeError); // BigInt(1.5)
    const next = publisher.send('s', 'b');
    expect(await settled(next)).toBe(true); // not waiting for a slot that nobody gives back
    const ticket = await next;
    router.publishCalls[0]!.ack(router.publishCalls[0]!.written[0]!, 0n);
    expect((await ticket.ack)!.offset).toBe(0n);
  });

  it('refuses a correlation id already in flight', async () => {
    const publisher = new AsyncPublisher(new FakeRouter());
    await publisher.send('s', 'a', { correlationId: 'x' });
    await expect(publisher.send('s', 'b', { correlationId: 'x' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await publisher.close(0);
  });

  it('flushes, then closes: waits for acks in flight, rejects the rest and later sends', async () => {
    const router = new FakeRouter();
    const publisher = new AsyncPublisher(router, { maxInFlight: 1 });
    const a = await publisher.send('s', 'a');
    const waiting = publisher.send('s', 'b');
    const flushed = publisher.flush();
    expect(await settled(flushed)).toBe(false);
    const closing = publisher.close(20);
    await expect(waiting).rejects.toBeInstanceOf(ClientClosedError);
    await closing;
    await expect(a.ack).rejects.toBeInstanceOf(ClientClosedError);
    await flushed;
    expect(router.publishCalls[0]!.ended).toBe(true);
    await expect(publisher.send('s', 'c')).rejects.toBeInstanceOf(ClientClosedError);
  });
});
