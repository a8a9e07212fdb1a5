import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { createHealthClient } from '../../../src/adapters/inbound/grpc/health-service-definition';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/wait-for';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;
let streamCounter = 0;
const unique = (prefix: string): string => `${prefix}-${++streamCounter}`;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
  client = connectClient(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

const createStream = (req: Partial<api.CreateStreamRequest> & { name: string }) =>
  call(client.createStream, client, { subject: `${req.name}.subject`, ...req });

const publish = (stream: string, value: string, extra: Partial<api.PublishRequest> = {}) =>
  call(client.publish, client, { stream, value: Buffer.from(value), expectedOffset: -1n, ...extra });

const expectStatus = async (promise: Promise<unknown>, code: grpc.status, message?: string | RegExp): Promise<void> => {
  const error = (await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => e,
  )) as grpc.ServiceError;
  expect(grpc.status[error.code]).toBe(grpc.status[code]);
  if (message) expect(error.details).toMatch(message);
};

describe('health and metadata', () => {
  it('reports proto.API SERVING on the standard health service', async () => {
    const health = createHealthClient(server.address, grpc.credentials.createInsecure());
    const response = await new Promise<{ status: number }>((resolve, reject) =>
      health.check({ service: 'proto.API' }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
    health.close();
    expect(response.status).toBe(1);
  });

  it('lists this broker and the streams with their partitions; unknown streams are flagged', async () => {
    const name = unique('meta');
    await createStream({ name, partitions: 3 });
    const response = await call(client.fetchMetadata, client, { streams: [name, 'no-such-stream'] });
    expect(response.brokers).toEqual([{ id: 'a', host: '127.0.0.1', port: server.broker.port, partitionCount: expect.any(Number), leaderCount: expect.any(Number) }]);
    const [known, unknown] = response.streamMetadata;
    expect(known!.name).toBe(name);
    expect(known!.subject).toBe(`${name}.subject`);
    expect(Object.keys(known!.partitions).sort()).toEqual(['0', '1', '2']);
    expect(known!.partitions[1]!.leader).toBe('a');
    expect(known!.partitions[1]!.isr).toEqual(['a']);
    expect(known!.creationTimestamp).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(unknown).toMatchObject({ name: 'no-such-stream', error: api.StreamMetadataError.UNKNOWN_STREAM });
  });

  it('answers INTERNAL "Cursors stream does not exist" for cursors when they are disabled', async () => {
    await expectStatus(call(client.fetchCursor, client, { stream: 'x', cursorId: 'c' }), grpc.status.INTERNAL, 'Cursors stream does not exist');
    await expectStatus(call(client.setCursor, client, { stream: 'x', cursorId: 'c', offset: 1n }), grpc.status.INTERNAL, 'Cursors stream does not exist');
  });
});

describe('CreateStream validation', () => {
  it('refuses a duplicate name with ALREADY_EXISTS', async () => {
    const name = unique('dup');
    await createStream({ name });
    await expectStatus(createStream({ name, subject: 'other' }), grpc.status.ALREADY_EXISTS, 'stream already exists');
  });

  it.each([
    [{ name: '' }, 'Name cannot be empty'],
    [{ name: 'has.dot' }, /NATS token/],
    [{ name: '../escape' }, /NATS token/],
    [{ name: '__cursors' }, 'Stream is reserved'],
    [{ name: 'okname-subject', subject: 'foo..bar' }, 'Subject is invalid'],
    [{ name: 'okname-subject2', subject: '' }, 'Subject is invalid'],
    [{ name: 'okname-rf', replicationFactor: 2 }, 'Invalid replicationFactor 2, cluster size 1'],
    [{ name: 'okname-parts', partitions: -1 }, /partitions/],
    [{ name: 'okname-seg', segmentMaxBytes: { value: 0n } }, /segmentMaxBytes/],
  ])('refuses case %# with INVALID_ARGUMENT', async (request, message) => {
    await expectStatus(call(client.createStream, client, { subject: 'valid.subject', ...request }), grpc.status.INVALID_ARGUMENT, message);
  });

  it('never creates a directory outside the data dir for a hostile name', async () => {
    await expectStatus(createStream({ name: '..' }), grpc.status.INVALID_ARGUMENT);
    expect(fs.existsSync(path.join(server.config.dataDir, '..', 'streams'))).toBe(false);
  });
});

describe('publish and subscribe', () => {
  it('publishes with an ack and reads back every field, nanosecond timestamps intact', async () => {
    const name = unique('pubsub');
    await createStream({ name });
    const acks = [];
    for (let i = 0; i < 5; i++) {
      const response = await publish(name, `v${i}`, { key: Buffer.from(`k${i}`), headers: { h: Buffer.from('x') }, correlationId: `c${i}` });
      acks.push(response.ack!);
    }
    expect(acks.map((a) => a.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(acks[0]).toMatchObject({ stream: name, partitionSubject: `${name}.subject`, msgSubject: `${name}.subject`, correlationId: 'c0' });
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
    const messages = await sub.waitFor(5);
    sub.cancel();
    expect(messages.map((m) => [m.offset, m.key.toString(), m.value.toString()])).toEqual([0, 1, 2, 3, 4].map((i) => [BigInt(i), `k${i}`, `v${i}`]));
    expect(messages[0]!.headers.h!.toString()).toBe('x');
    expect(messages[0]!.headers.subject!.toString()).toBe(`${name}.subject`);
    expect(messages[0]!.subject).toBe(`${name}.subject`);
    expect(messages[0]!.stream).toBe(name);
    // int64 nanoseconds survive end to end: the stored timestamp is the ack's reception timestamp.
    expect(messages.map((m) => m.timestamp)).toEqual(acks.map((a) => a.receptionTimestamp));
    expect(acks[0]!.receptionTimestamp > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('streams new messages to a waiting subscriber and ends cleanly on cancel', async () => {
    const name = unique('live');
    await createStream({ name });
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.NEW_ONLY });
    await sub.ready;
    for (let i = 0; i < 3; i++) await publish(name, `m${i}`);
    const messages = await sub.waitFor(3);
    expect(messages.map((m) => m.value.toString())).toEqual(['m0', 'm1', 'm2']);
    sub.cancel();
    const status = await sub.done;
    expect(status.code).toBe(grpc.status.CANCELLED);
  });

  it('honours every start position', async () => {
    const name = unique('starts');
    await createStream({ name });
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push((await publish(name, `v${i}`)).ack!);
    const firstOf = async (request: Partial<api.SubscribeRequest>): Promise<bigint> => {
      const sub = subscribe(client, { stream: name, ...request });
      const [first] = await sub.waitFor(1);
      sub.cancel();
      return first!.offset;
    };
    expect(await firstOf({ startPosition: api.StartPosition.EARLIEST })).toBe(0n);
    expect(await firstOf({ startPosition: api.StartPosition.LATEST })).toBe(4n);
    expect(await firstOf({ startPosition: api.StartPosition.OFFSET, startOffset: 3n })).toBe(3n);
    expect(await firstOf({ startPosition: api.StartPosition.TIMESTAMP, startTimestamp: acks[2]!.receptionTimestamp })).toBe(2n);
    // NEW_ONLY and an offset past the end both mean "the next message" (TestSubscribeOffsetOverflow).
    for (const request of [{ startPosition: api.StartPosition.NEW_ONLY }, { startPosition: api.StartPosition.OFFSET, startOffset: 100n }]) {
      const sub = subscribe(client, { stream: name, ...request });
      await sub.ready;
      const ack = (await publish(name, 'next')).ack!;
      const [first] = await sub.waitFor(1);
      sub.cancel();
      expect(first!.offset).toBe(ack.offset);
    }
  });

  it('honours stop positions and ends with RESOURCE_EXHAUSTED', async () => {
    const name = unique('stops');
    await createStream({ name });
    const empty = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST, stopPosition: api.StopPosition.STOP_LATEST });
    const emptyStatus = await empty.done;
    expect(emptyStatus.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(emptyStatus.details).toBe('Stream is empty');
    const acks = [];
    for (let i = 0; i < 10; i++) acks.push((await publish(name, `v${i}`)).ack!);
    const latest = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST, stopPosition: api.StopPosition.STOP_LATEST });
    expect((await latest.done).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(latest.messages).toHaveLength(10);
    const byTime = subscribe(client, {
      stream: name,
      startPosition: api.StartPosition.TIMESTAMP,
      startTimestamp: acks[2]!.receptionTimestamp,
      stopPosition: api.StopPosition.STOP_TIMESTAMP,
      stopTimestamp: acks[6]!.receptionTimestamp,
    });
    const byTimeStatus = await byTime.done;
    expect(byTimeStatus.details).toBe('Stop offset reached');
    expect(byTime.messages.map((m) => m.offset)).toEqual([2n, 3n, 4n, 5n, 6n]);
    const byOffset = subscribe(client, { stream: name, startPosition: api.StartPosition.OFFSET, startOffset: 7n, stopPosition: api.StopPosition.STOP_OFFSET, stopOffset: 8n });
    await byOffset.done;
    expect(byOffset.messages.map((m) => m.offset)).toEqual([7n, 8n]);
    const backwards = subscribe(client, { stream: name, startPosition: api.StartPosition.OFFSET, startOffset: 5n, stopPosition: api.StopPosition.STOP_OFFSET, stopOffset: 2n });
    const backwardsStatus = await backwards.done;
    expect(backwardsStatus.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(backwardsStatus.details).toBe('Stop offset is before start offset: 2 < 5');
  });

  it('reports unknown streams and partitions with Liftbridge\'s codes', async () => {
    const sub = subscribe(client, { stream: 'nope', startPosition: api.StartPosition.EARLIEST });
    const status = await sub.done;
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.details).toBe('No such partition');
    await expectStatus(publish('nope', 'x'), grpc.status.NOT_FOUND, 'no such stream: nope');
    const name = unique('parts');
    await createStream({ name });
    await expectStatus(publish(name, 'x', { partition: 42 }), grpc.status.NOT_FOUND, 'no such partition: 42');
    await expectStatus(publish('', 'x'), grpc.status.INVALID_ARGUMENT, 'no stream provided');
    await expectStatus(call(client.fetchPartitionMetadata, client, { stream: name, partition: 9 }), grpc.status.NOT_FOUND, 'partition not found');
  });

  it('publishes to other partitions on their own subjects', async () => {
    const name = unique('multi');
    await createStream({ name, partitions: 3 });
    const ack = (await publish(name, 'p2', { partition: 2 })).ack!;
    expect(ack.msgSubject).toBe(`${name}.subject.2`);
    expect(ack.offset).toBe(0n);
    const metadata = await call(client.fetchPartitionMetadata, client, { stream: name, partition: 2 });
    expect(metadata.metadata!.newestOffset).toBe(0n);
    expect(metadata.metadata!.highWatermark).toBe(0n);
    expect(metadata.metadata!.messagesReceivedTimestamps!.firstTimestamp).toBeGreaterThan(0n);
  });

  it('PublishAsync acks every message with its correlation id and reports errors without closing', async () => {
    const name = unique('async');
    await createStream({ name });
    const stream = client.publishAsync();
    const responses: api.PublishResponse[] = [];
    stream.on('data', (r: api.PublishResponse) => responses.push(r));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    for (let i = 0; i < 200; i++) stream.write({ stream: name, value: Buffer.from(`a${i}`), correlationId: `id-${i}`, expectedOffset: -1n });
    stream.write({ stream: 'missing-stream', value: Buffer.from('x'), correlationId: 'bad', expectedOffset: -1n });
    stream.write({ stream: name, value: Buffer.from('after'), correlationId: 'after', expectedOffset: -1n });
    stream.end();
    await ended;
    const byId = new Map(responses.map((r) => [r.correlationId, r]));
    expect(byId.size).toBe(202);
    expect(byId.get('id-0')!.ack!.offset).toBe(0n);
    expect(byId.get('id-199')!.ack!.offset).toBe(199n);
    expect(byId.get('after')!.ack!.offset).toBe(200n);
    expect(byId.get('bad')!.asyncError).toEqual({ code: api.PublishAsyncErrorCode.NOT_FOUND, message: 'no such stream: missing-stream' });
  });

  it('PublishToSubject publishes to a raw subject and returns the ack', async () => {
    const name = unique('tosubject');
    await createStream({ name });
    const response = await call(client.publishToSubject, client, { subject: `${name}.subject`, value: Buffer.from('raw'), ackPolicy: api.AckPolicy.LEADER });
    expect(response.ack).toMatchObject({ stream: name, offset: 0n, ackError: api.AckError.OK });
  });

  it('refuses a message larger than replication.max.bytes', async () => {
    const name = unique('big');
    await createStream({ name });
    const big = Buffer.alloc(server.config.clustering.replicationMaxBytes + 10, 1);
    await expectStatus(call(client.publish, client, { stream: name, value: big, expectedOffset: -1n }), grpc.status.INVALID_ARGUMENT);
  });
});

describe('optimistic concurrency control', () => {
  it('appends only at the expected offset', async () => {
    const name = unique('occ');
    await createStream({ name, optimisticConcurrencyControl: { value: true } });
    expect((await publish(name, 'first', { expectedOffset: 0n })).ack!.offset).toBe(0n);
    await expectStatus(publish(name, 'stale', { expectedOffset: 0n }), grpc.status.UNKNOWN, 'incorrect expected offset');
    expect((await publish(name, 'second', { expectedOffset: 1n })).ack!.offset).toBe(1n);
    expect((await publish(name, 'unchecked', { expectedOffset: -1n })).ack!.offset).toBe(2n);
    await expectStatus(publish(name, 'none', { ackPolicy: api.AckPolicy.NONE }), grpc.status.INVALID_ARGUMENT, 'stream with concurrency control must have AckPolicy set');
  });
});

describe('read-only, pause and delete', () => {
  it('read-only refuses publishes and ends subscribers at the end; clearing it allows publishing again', async () => {
    const name = unique('ro');
    await createStream({ name });
    await publish(name, 'before');
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
    await sub.waitFor(1);
    await call(client.setStreamReadonly, client, { name, readonly: true });
    const status = await sub.done;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toBe('End of readonly partition');
    await expectStatus(publish(name, 'refused'), grpc.status.FAILED_PRECONDITION, 'readonly partition: 0');
    await call(client.setStreamReadonly, client, { name, readonly: false });
    expect((await publish(name, 'after')).ack!.offset).toBe(1n);
    await expectStatus(call(client.setStreamReadonly, client, { name, partitions: [5], readonly: true }), grpc.status.NOT_FOUND);
  });

  it('pause ends subscribers with FAILED_PRECONDITION; a publish resumes the partition', async () => {
    const name = unique('pause');
    await createStream({ name, partitions: 2 });
    await publish(name, 'one');
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
    await sub.waitFor(1);
    await call(client.pauseStream, client, { name });
    await call(client.pauseStream, client, { name }); // idempotent
    const status = await sub.done;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    const paused = await call(client.fetchMetadata, client, { streams: [name] });
    expect(paused.streamMetadata[0]!.partitions[0]!.paused).toBe(true);
    expect((await publish(name, 'two')).ack!.offset).toBe(1n);
    const resumed = await call(client.fetchMetadata, client, { streams: [name] });
    expect(resumed.streamMetadata[0]!.partitions[0]!.paused).toBe(false);
    expect(resumed.streamMetadata[0]!.partitions[1]!.paused).toBe(true);
    const again = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
    const messages = await again.waitFor(2);
    again.cancel();
    expect(messages.map((m) => m.value.toString())).toEqual(['one', 'two']);
    await expectStatus(call(client.pauseStream, client, { name: 'nope' }), grpc.status.NOT_FOUND);
  });

  it('subscribe with resume reopens a paused partition', async () => {
    const name = unique('resume');
    await createStream({ name });
    await publish(name, 'kept');
    await call(client.pauseStream, client, { name });
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST, resume: true });
    const [first] = await sub.waitFor(1);
    sub.cancel();
    expect(first!.value.toString()).toBe('kept');
  });

  it('delete ends subscribers with NOT_FOUND, removes the data, and the name can be reused', async () => {
    const name = unique('del');
    await createStream({ name });
    await publish(name, 'doomed');
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
    await sub.waitFor(1);
    await call(client.deleteStream, client, { name });
    const status = await sub.done;
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.details).toBe('commit log was deleted');
    expect(fs.existsSync(path.join(server.config.dataDir, 'streams', name))).toBe(false);
    await expectStatus(call(client.deleteStream, client, { name }), grpc.status.NOT_FOUND, 'stream does not exist');
    await createStream({ name });
    expect((await publish(name, 'fresh')).ack!.offset).toBe(0n);
  });
});

describe('malformed input', () => {
  const rawMethod = (name: string, responseStream = false): grpc.ServiceDefinition => ({
    [name]: {
      path: `/proto.API/${name}`,
      requestStream: false,
      responseStream,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  });

  it.each([
    ['truncated varint', Buffer.from([0x20, 0xff, 0xff])],
    ['length past the end', Buffer.from([0x0a, 0x7f, 0x61])],
    ['2^31 length prefix', Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00])],
    ['wrong wire type', Buffer.from([0x0d, 1, 2, 3, 4])],
    ['random bytes', Buffer.from('9f8e7d6c5b4a39281706f5e4d3c2b1a0', 'hex')],
  ])('answers a CreateStream with %s with an error status and keeps serving', async (_what, bytes) => {
    const Raw = grpc.makeGenericClientConstructor(rawMethod('CreateStream'), 'proto.API');
    type RawClient = grpc.Client & { CreateStream(r: Buffer, o: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null) => void): void };
    const raw = new Raw(server.address, grpc.credentials.createInsecure()) as unknown as RawClient;
    const error = await new Promise<grpc.ServiceError | null>((resolve) => raw.CreateStream(bytes, { deadline: Date.now() + 5000 }, resolve));
    raw.close();
    expect(error).not.toBeNull();
    expect([grpc.status.INVALID_ARGUMENT, grpc.status.INTERNAL]).toContain(error!.code);
    const metadata = await call(client.fetchMetadata, client, {});
    expect(metadata.brokers).toHaveLength(1);
  });

  it('refuses an out-of-range AckPolicy with INVALID_ARGUMENT', async () => {
    const name = unique('ackpolicy');
    await createStream({ name });
    await expectStatus(publish(name, 'x', { ackPolicy: 99 as api.AckPolicy }), grpc.status.INVALID_ARGUMENT, /ackPolicy/);
  });

  it('clamps a negative start offset to the beginning', async () => {
    const name = unique('negative');
    await createStream({ name });
    await publish(name, 'first');
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.OFFSET, startOffset: -5n });
    const [first] = await sub.waitFor(1);
    sub.cancel();
    expect(first!.offset).toBe(0n);
  });
});

describe('retention', () => {
  it('deletes old segments by message count on the cleaner interval, and EARLIEST starts after them', async () => {
    const name = unique('retention');
    await createStream({
      name,
      retentionMaxMessages: { value: 5n },
      segmentMaxBytes: { value: 1n }, // one message per segment, so whole segments can go
      cleanerInterval: { value: 50n },
    });
    for (let i = 0; i < 10; i++) await publish(name, `m${i}`);
    const oldestOffset = async (): Promise<bigint> => {
      const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.EARLIEST });
      const first = (await sub.waitFor(1))[0]!.offset;
      sub.cancel();
      return first;
    };
    const oldest = await waitFor(async () => {
      const offset = await oldestOffset();
      return offset >= 5n && offset;
    }, 10_000, 'the retention to remove the oldest messages', 50);
    expect(oldest).toBe(5n); // TestStreamRetentionMessages: the 5 newest messages remain
    const sub = subscribe(client, { stream: name, startPosition: api.StartPosition.OFFSET, startOffset: 0n, stopPosition: api.StopPosition.STOP_LATEST });
    await sub.done;
    expect(sub.messages.map((m) => m.value.toString())).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
  });
});
