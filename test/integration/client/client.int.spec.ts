import { firstValueFrom, take, toArray } from 'rxjs';
import {
  AckPolicy,
  BrokerUnavailableError,
  byKey,
  crc32Ieee,
  IncorrectOffsetError,
  InvalidArgumentError,
  LiftbridgeClient,
  NoSuchPartitionError,
  NoSuchStreamError,
  PartitionPausedError,
  ReadonlyPartitionError,
  ReceivedMessage,
  roundRobin,
  StartPosition,
  StopPosition,
  StreamDeletedError,
  StreamExistsError,
  Subscription,
} from '../../../src/client';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: LiftbridgeClient;
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${++counter}`;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
  client = await LiftbridgeClient.connect({ servers: [server.address] });
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

/** Reads `n` messages from a subscription, then closes it. */
async function take$(subscription: Subscription, n: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  if (n === 0) {
    subscription.close();
    return out;
  }
  for await (const message of subscription) {
    out.push(message);
    if (out.length === n) break;
  }
  return out;
}

/** Drains a subscription that ends by itself (stop position). */
async function drain(subscription: Subscription): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  for await (const message of subscription) out.push(message);
  return out;
}

async function expectRejects<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${type.name}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

describe('connect and metadata', () => {
  it('caches brokers and stream partition leaders', async () => {
    const name = unique('meta');
    await client.createStream(name, `${name}.subj`, { partitions: 3 });
    expect(client.metadata.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([server.address]);
    expect(client.metadata.partitionCount(name)).toBe(3);
    expect(client.metadata.leaderAddress(name, 2)).toBe(server.address);
    const partition = await client.fetchPartitionMetadata(name, 1);
    expect(partition).toMatchObject({ id: 1, leader: 'a', highWatermark: -1n, newestOffset: -1n });
  });
});

describe('broker loss', () => {
  it('skips an unreachable seed (UNAVAILABLE) and fails with BrokerUnavailableError when none answers', async () => {
    const { freePort } = await import('../../support/ports');
    const dead = `127.0.0.1:${await freePort()}`;
    const viaDeadSeed = await LiftbridgeClient.connect({ servers: [dead, server.address], retry: { attempts: 3, backoffMs: 10 } });
    try {
      const name = unique('seed');
      await viaDeadSeed.createStream(name, `${name}.subj`);
      expect((await viaDeadSeed.publish(name, 'x'))!.offset).toBe(0n);
    } finally {
      viaDeadSeed.close();
    }
    await expectRejects(LiftbridgeClient.connect({ servers: [dead], retry: { attempts: 2, backoffMs: 10 } }), BrokerUnavailableError);
  });
});

describe('admin', () => {
  it('creates with options, refuses duplicates with StreamExistsError carrying ALREADY_EXISTS', async () => {
    const name = unique('admin');
    await client.createStream(name, `${name}.subj`, {
      partitions: 2,
      replicationFactor: 1,
      retentionMaxMessages: 1000,
      retentionMaxAgeMs: 3_600_000,
      segmentMaxBytes: 1 << 20,
      minIsr: 1,
      optimisticConcurrencyControl: true,
    });
    const error = await expectRejects(client.createStream(name, 'other'), StreamExistsError);
    expect(error.code).toBe(6);
  });

  it('maps NOT_FOUND to NoSuchStreamError / NoSuchPartitionError and INVALID_ARGUMENT to InvalidArgumentError', async () => {
    await expectRejects(client.deleteStream(unique('missing')), NoSuchStreamError);
    const name = unique('np');
    await client.createStream(name, `${name}.subj`);
    await expectRejects(client.pauseStream(name, { partitions: [7] }), NoSuchPartitionError);
    await expectRejects(client.setStreamReadonly(name, { partitions: [7] }), NoSuchPartitionError);
    await expectRejects(client.fetchPartitionMetadata(name, 7), NoSuchPartitionError);
    await expectRejects(client.createStream('', 'x'), InvalidArgumentError);
    await expectRejects(client.publish(unique('nostream'), 'x'), NoSuchStreamError);
  });

  it('deletes a stream and forgets it in the cache', async () => {
    const name = unique('del');
    await client.createStream(name, `${name}.subj`);
    await client.deleteStream(name);
    expect(client.metadata.stream(name)).toBeUndefined();
    const response = await client.fetchMetadata([name]);
    expect(response.streamMetadata[0]).toMatchObject({ name, error: 1 });
  });
});

describe('publish and subscribe', () => {
  it('round-trips key, value, headers, offsets and nanosecond timestamps as bigint', async () => {
    const name = unique('rt');
    await client.createStream(name, `${name}.subj`);
    const acks = [];
    for (let i = 0; i < 3; i++) {
      acks.push(await client.publish(name, `v${i}`, { key: `k${i}`, headers: { h: 'x' }, correlationId: `c${i}` }));
    }
    expect(acks.map((a) => a!.offset)).toEqual([0n, 1n, 2n]);
    expect(acks[0]).toMatchObject({ stream: name, correlationId: 'c0' });
    expect(typeof acks[0]!.commitTimestamp).toBe('bigint');
    const messages = await take$(client.subscribe(name, { startPosition: StartPosition.EARLIEST }), 3);
    expect(messages.map((m) => [m.offset, m.key.toString(), m.value.toString(), m.headers.h!.toString()])).toEqual([
      [0n, 'k0', 'v0', 'x'],
      [1n, 'k1', 'v1', 'x'],
      [2n, 'k2', 'v2', 'x'],
    ]);
    expect(messages[0]!.timestamp).toBeGreaterThan(1_600_000_000_000_000_000n);
  });

  it('returns no ack for AckPolicy.NONE and checks expectedOffset (OCC)', async () => {
    const name = unique('occ');
    await client.createStream(name, `${name}.subj`, { optimisticConcurrencyControl: true });
    expect((await client.publish(name, 'a', { expectedOffset: -1 }))!.offset).toBe(0n);
    expect((await client.publish(name, 'b', { expectedOffset: 1 }))!.offset).toBe(1n);
    await expectRejects(client.publish(name, 'c', { expectedOffset: 1 }), IncorrectOffsetError);
    const plain = unique('none');
    await client.createStream(plain, `${plain}.subj`);
    expect(await client.publish(plain, 'x', { ackPolicy: AckPolicy.NONE })).toBeUndefined();
  });

  it('publishes with AckPolicy.ALL and to a raw subject (PublishToSubject)', async () => {
    const name = unique('all');
    await client.createStream(name, `${name}.subj`);
    expect((await client.publish(name, 'a', { ackPolicy: AckPolicy.ALL }))!.offset).toBe(0n);
    const ack = await client.publishToSubject(`${name}.subj`, 'b', { key: 'k', headers: { h: 'v' }, correlationId: 'sub-1' });
    expect(ack).toMatchObject({ stream: name, offset: 1n, correlationId: 'sub-1' });
    const [message] = await take$(client.subscribe(name, { startOffset: 1n }), 1);
    expect([message!.key.toString(), message!.value.toString(), message!.headers.h!.toString()]).toEqual(['k', 'b', 'v']);
  });

  it('supports every start position', async () => {
    const name = unique('start');
    await client.createStream(name, `${name}.subj`);
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push((await client.publish(name, `m${i}`))!);
    const values = (ms: ReceivedMessage[]) => ms.map((m) => m.value.toString());

    expect(values(await take$(client.subscribe(name, { startPosition: StartPosition.EARLIEST }), 5))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(values(await take$(client.subscribe(name, { startOffset: 3n }), 2))).toEqual(['m3', 'm4']);
    expect(values(await take$(client.subscribe(name, { startPosition: StartPosition.LATEST }), 1))).toEqual(['m4']);
    expect(values(await take$(client.subscribe(name, { startTimestamp: acks[2]!.receptionTimestamp }), 3))).toEqual(['m2', 'm3', 'm4']);

    const newOnly = client.subscribe(name); // default NEW_ONLY
    await newOnly.ready;
    const pending = take$(newOnly, 1);
    await client.publish(name, 'm5');
    expect(values(await pending)).toEqual(['m5']);
  });

  it('supports stop positions: the iterator completes at the stop', async () => {
    const name = unique('stop');
    await client.createStream(name, `${name}.subj`);
    for (let i = 0; i < 5; i++) await client.publish(name, `m${i}`);
    const offsets = (ms: ReceivedMessage[]) => ms.map((m) => m.offset);
    expect(offsets(await drain(client.subscribe(name, { startPosition: StartPosition.EARLIEST, stopOffset: 2n })))).toEqual([0n, 1n, 2n]);
    expect(offsets(await drain(client.subscribe(name, { startOffset: 1n, stopPosition: StopPosition.STOP_LATEST })))).toEqual([1n, 2n, 3n, 4n]);
    const all = await drain(client.subscribe(name, { startPosition: StartPosition.EARLIEST, stopPosition: StopPosition.STOP_LATEST }));
    const stopAt = await drain(client.subscribe(name, { startPosition: StartPosition.EARLIEST, stopTimestamp: all[1]!.timestamp }));
    expect(offsets(stopAt)).toEqual([0n, 1n]);
  });

  it('is an rxjs Observable too', async () => {
    const name = unique('rx');
    await client.createStream(name, `${name}.subj`);
    for (let i = 0; i < 4; i++) await client.publish(name, `m${i}`);
    const values = await firstValueFrom(
      client.subscribe$(name, { startPosition: StartPosition.EARLIEST }).pipe(take(4), toArray()),
    );
    expect(values.map((m) => m.value.toString())).toEqual(['m0', 'm1', 'm2', 'm3']);
  });
});

describe('partitioners', () => {
  it('routes by key exactly as go-liftbridge (CRC-32 IEEE mod partitions), round-robin and explicit', async () => {
    const name = unique('keys');
    const partitions = 4;
    await client.createStream(name, `${name}.subj`, { partitions });
    const keys = ['hello', 'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
    const expected = new Map<number, string[]>();
    for (const key of keys) {
      const ack = await client.publish(name, `v-${key}`, { key, partitioner: byKey });
      const partition = crc32Ieee(Buffer.from(key)) % partitions;
      expect(ack!.msgSubject).toBe(partition === 0 ? `${name}.subj` : `${name}.subj.${partition}`);
      expected.set(partition, [...(expected.get(partition) ?? []), key]);
    }
    expect(crc32Ieee(Buffer.from('hello')) % partitions).toBe(0x3610a686 % partitions);
    for (const [partition, partKeys] of expected) {
      const got = await take$(client.subscribe(name, { partition, startPosition: StartPosition.EARLIEST }), partKeys.length);
      expect(got.map((m) => m.key.toString())).toEqual(partKeys);
    }

    const rr = roundRobin();
    const subjects = [];
    for (let i = 0; i < 5; i++) subjects.push((await client.publish(name, 'rr', { partitioner: rr }))!.msgSubject);
    expect(subjects).toEqual([`${name}.subj`, `${name}.subj.1`, `${name}.subj.2`, `${name}.subj.3`, `${name}.subj`]);
    expect((await client.publish(name, 'x', { partition: 3 }))!.msgSubject).toBe(`${name}.subj.3`);
    await expectRejects(client.publish(name, 'x', { partition: 9 }), NoSuchPartitionError);
  });
});

describe('AsyncPublisher', () => {
  it('pipelines 5000 messages through a window of 64 with correct ack offsets', async () => {
    const name = unique('async');
    await client.createStream(name, `${name}.subj`);
    const publisher = client.asyncPublisher({ maxInFlight: 64 });
    const tickets = [];
    let maxSeen = 0;
    for (let i = 0; i < 5000; i++) {
      tickets.push(await publisher.send(name, `m${i}`, { correlationId: `id-${i}` }));
      maxSeen = Math.max(maxSeen, publisher.inFlight);
    }
    const acks = await Promise.all(tickets.map((t) => t.ack));
    expect(maxSeen).toBeLessThanOrEqual(64);
    expect(acks.map((a) => a!.offset)).toEqual(Array.from({ length: 5000 }, (_, i) => BigInt(i)));
    expect(acks.map((a) => a!.correlationId)).toEqual(Array.from({ length: 5000 }, (_, i) => `id-${i}`));
    await publisher.close();
    const last = await take$(client.subscribe(name, { startOffset: 4999n }), 1);
    expect(last[0]!.value.toString()).toBe('m4999');
  });

  it('applies backpressure to sends not awaited and resolves every publish to its ack', async () => {
    const name = unique('bp');
    await client.createStream(name, `${name}.subj`, { partitions: 2 });
    const publisher = client.asyncPublisher({ maxInFlight: 8 });
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => publisher.publish(name, `m${i}`, { partition: i % 2 })));
    expect(acks.filter((a) => a!.msgSubject === `${name}.subj`).map((a) => a!.offset)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(acks.filter((a) => a!.msgSubject === `${name}.subj.1`)).toHaveLength(100);
    await publisher.flush();
    expect(publisher.inFlight).toBe(0);
    await publisher.close();
  });

  it('rejects per message with typed errors from asyncError', async () => {
    const name = unique('aerr');
    await client.createStream(name, `${name}.subj`, { partitions: 2, optimisticConcurrencyControl: true });
    const publisher = client.asyncPublisher();
    await expectRejects(publisher.publish(name, 'x', { partition: 5 }), NoSuchPartitionError);
    expect((await publisher.publish(name, 'ok', { expectedOffset: -1 }))!.offset).toBe(0n);
    await expectRejects(publisher.publish(name, 'x', { expectedOffset: 5 }), IncorrectOffsetError);
    await client.setStreamReadonly(name, { partitions: [1] });
    await expectRejects(publisher.publish(name, 'x', { partition: 1 }), ReadonlyPartitionError);
    await expectRejects(client.publish(name, 'x', { partition: 1 }), ReadonlyPartitionError);
    await publisher.close();
  });
});

describe('subscription termination', () => {
  it('completes at the end of a readonly partition', async () => {
    const name = unique('ro');
    await client.createStream(name, `${name}.subj`);
    for (let i = 0; i < 3; i++) await client.publish(name, `m${i}`);
    await client.setStreamReadonly(name);
    const got = await drain(client.subscribe(name, { startPosition: StartPosition.EARLIEST }));
    expect(got.map((m) => m.offset)).toEqual([0n, 1n, 2n]);
  });

  it('fails with StreamDeletedError when the stream is deleted', async () => {
    const name = unique('gone');
    await client.createStream(name, `${name}.subj`);
    await client.publish(name, 'm0');
    const sub = client.subscribe(name, { startPosition: StartPosition.EARLIEST });
    const iterator = sub[Symbol.asyncIterator]();
    expect((await iterator.next()).value!.value.toString()).toBe('m0');
    await client.deleteStream(name);
    await expect(iterator.next()).rejects.toBeInstanceOf(StreamDeletedError);
  });

  it('fails with PartitionPausedError when the partition is paused', async () => {
    const name = unique('pause');
    await client.createStream(name, `${name}.subj`);
    await client.publish(name, 'm0');
    const sub = client.subscribe(name, { startPosition: StartPosition.EARLIEST });
    const iterator = sub[Symbol.asyncIterator]();
    expect((await iterator.next()).value!.offset).toBe(0n);
    await client.pauseStream(name);
    await expect(iterator.next()).rejects.toBeInstanceOf(PartitionPausedError);
  });

  it('ends a pending iteration cleanly on close()', async () => {
    const name = unique('close');
    await client.createStream(name, `${name}.subj`);
    const sub = client.subscribe(name);
    await sub.ready;
    const pending = sub[Symbol.asyncIterator]().next();
    sub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});

describe('resubscription', () => {
  it('continues without gap or duplicate after the broker restarts on the same data dir and port', async () => {
    const { freePort } = await import('../../support/ports');
    const port = await freePort();
    const config = testBrokerConfig(nats.url, { listen: { port }, advertise: { port } });
    let broker = await startTestBroker(config);
    const local = await LiftbridgeClient.connect({ servers: [broker.address], retry: { attempts: 10, backoffMs: 50, maxBackoffMs: 300 } });
    try {
      const name = unique('resub');
      await local.createStream(name, `${name}.subj`);
      for (let i = 0; i < 10; i++) await local.publish(name, `m${i}`);
      const sub = local.subscribe(name, { startPosition: StartPosition.EARLIEST });
      const received: ReceivedMessage[] = [];
      const consumer = (async () => {
        for await (const message of sub) {
          received.push(message);
          if (received.length === 20) break;
        }
      })();
      await waitFor(() => received.length >= 10, 10_000, 'the first 10 messages');
      await broker.stop();
      broker = await startTestBroker(config);
      for (let i = 10; i < 20; i++) await local.publish(name, `m${i}`);
      await consumer;
      expect(received.map((m) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
      expect(received.map((m) => m.value.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(sub.connections).toBeGreaterThanOrEqual(2);
    } finally {
      local.close();
      await broker.destroy();
    }
  });
});
