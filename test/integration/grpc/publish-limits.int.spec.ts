import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import { connect, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-proto';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * The publish edge's hardening (one bad record, internal subjects, ack inboxes, UTF-8, expected
 * offsets) against one in-process server on a real nats-server, real gRPC and
 * real files: one bad publish is refused alone with a clear error and costs no other client
 * anything; refused ack inboxes, internal subjects, invalid UTF-8 and negative expected offsets are
 * answered with INVALID_ARGUMENT instead of a timeout or silent acceptance.
 */
let nats: TestNatsServer;
let server: StartedTestBroker;
let clients: ApiClient[];
let nc: NatsConnection;
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${++counter}`;
const HUGE_NAME = 'h'.repeat(64 * 1024);

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
  clients = Array.from({ length: 5 }, () => connectClient(server.address));
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  for (const c of clients ?? []) c.close();
  await server?.destroy();
  await nats?.stop();
});

const client = (): ApiClient => clients[0]!;
const namespace = (): string => server.config.clustering.namespace;
const createStream = (name: string, extra: Partial<api.CreateStreamRequest> = {}) => call(client().createStream, client(), { name, subject: name, ...extra });
const statusOf = (promise: Promise<unknown>): Promise<grpc.ServiceError | null> => promise.then(() => null, (e: grpc.ServiceError) => e);

/** A unary call with hand-made request bytes (to send what our encoder refuses to produce). */
function rawCall(method: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    (client() as unknown as grpc.Client).makeUnaryRequest(`/proto.API/${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes, { deadline: Date.now() + 5000 }, (error) =>
      resolve(error ?? null),
    );
  });
}

/** Replaces the first occurrence of `marker` (ASCII) in `bytes` by invalid UTF-8 of the same length. */
const withInvalidUtf8 = (bytes: Buffer, marker: string): Buffer => {
  const out = Buffer.from(bytes);
  out.fill(0xff, out.indexOf(marker), out.indexOf(marker) + marker.length);
  return out;
};

describe('one bad publish among many', () => {
  it('gRPC: 200 concurrent publishes from four clients are all stored and acked; a 64 KiB header name is refused alone', async () => {
    const name = unique('crowd');
    await createStream(name);
    const good = Array.from({ length: 200 }, (_, i) => {
      const c = clients[1 + (i % 4)]!;
      return call(c.publish, c, { stream: name, value: Buffer.from(`m${i}`), correlationId: `m${i}`, expectedOffset: -1n }, 5000);
    });
    const bad = statusOf(call(client().publish, client(), { stream: name, value: Buffer.from('bad'), headers: { [HUGE_NAME]: Buffer.from('v') }, expectedOffset: -1n }, 5000));
    const more = Array.from({ length: 50 }, (_, i) => {
      const c = clients[1 + (i % 4)]!;
      return call(c.publish, c, { stream: name, value: Buffer.from(`n${i}`), correlationId: `n${i}`, expectedOffset: -1n }, 5000);
    });
    const refused = await bad;
    expect(refused?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused?.details).toBe('invalid headers: a header name of 65536 bytes is longer than the limit of 32767 bytes');
    const offsets = (await Promise.all([...good, ...more])).map((r) => Number(r.ack!.offset));
    expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('PublishAsync: the bad request gets BAD_REQUEST naming the field; the stream goes on', async () => {
    const name = unique('crowd-async');
    await createStream(name);
    const stream = client().publishAsync();
    const responses: api.PublishResponse[] = [];
    stream.on('data', (r: api.PublishResponse) => responses.push(r));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    for (let i = 0; i < 100; i++) stream.write({ stream: name, value: Buffer.from(`a${i}`), correlationId: `a${i}`, expectedOffset: -1n });
    stream.write({ stream: name, value: Buffer.from('bad'), headers: { [HUGE_NAME]: Buffer.from('v') }, correlationId: 'bad', expectedOffset: -1n });
    stream.write({ stream: name, value: Buffer.from('neg'), correlationId: 'neg', expectedOffset: -5n });
    for (let i = 100; i < 200; i++) stream.write({ stream: name, value: Buffer.from(`a${i}`), correlationId: `a${i}`, expectedOffset: -1n });
    stream.end();
    await ended;
    const byId = new Map(responses.map((r) => [r.correlationId, r]));
    expect(byId.get('bad')!.asyncError).toEqual({ code: api.PublishAsyncErrorCode.BAD_REQUEST, message: 'invalid headers: a header name of 65536 bytes is longer than the limit of 32767 bytes' });
    expect(byId.get('neg')!.asyncError).toEqual({ code: api.PublishAsyncErrorCode.BAD_REQUEST, message: 'invalid expectedOffset: -5 (-1 for no check, else an offset >= 0)' });
    for (let i = 0; i < 200; i++) expect(byId.get(`a${i}`)!.ack!.offset).toBe(BigInt(i));
  });

  it('plain NATS: 200 enveloped publishes are acked; the one with a 64 KiB header name gets TOO_LARGE alone', async () => {
    const name = unique('crowd-nats');
    await createStream(name);
    const inbox = `${name}.acks`;
    const acks: api.Ack[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, msg) => acks.push(decodeAckEnvelope(msg.data)) });
    await nc.flush();
    const envelope = (correlationId: string, headers: Record<string, Uint8Array> | null = null): Uint8Array =>
      encodePublishEnvelope({ value: Buffer.from(correlationId), headers, ackInbox: inbox, correlationId, expectedOffset: -1 });
    for (let i = 0; i < 100; i++) nc.publish(name, envelope(`m${i}`));
    nc.publish(name, envelope('bad', { [HUGE_NAME]: Buffer.from('v') }));
    for (let i = 100; i < 200; i++) nc.publish(name, envelope(`m${i}`));
    await waitFor(() => acks.length === 201, 10_000, '201 acks');
    sub.unsubscribe();
    const byId = new Map(acks.map((a) => [a.correlationId, a]));
    expect(byId.get('bad')!.ackError).toBe(api.AckError.TOO_LARGE);
    for (let i = 0; i < 200; i++) expect([byId.get(`m${i}`)!.ackError, byId.get(`m${i}`)!.offset]).toEqual([api.AckError.OK, BigInt(i)]);
  });
});

describe('publish requests the server cannot honour are refused at once', () => {
  it('an ack inbox the leader would never answer on: INVALID_ARGUMENT, not a timeout', async () => {
    const name = unique('inbox');
    await createStream(name);
    for (const ackInbox of [`${namespace()}.raft.metadata.propagate`, 'acks.*', 'acks.>']) {
      const publish = await statusOf(call(client().publish, client(), { stream: name, value: Buffer.from('x'), ackInbox, expectedOffset: -1n }, 3000));
      expect([publish?.code, publish?.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(/^invalid ackInbox /)]);
      const toSubject = await statusOf(call(client().publishToSubject, client(), { subject: name, value: Buffer.from('x'), ackInbox }, 3000));
      expect([toSubject?.code, toSubject?.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(/^invalid ackInbox /)]);
    }
  });

  it('PublishToSubject on a subject of the server namespace: INVALID_ARGUMENT; ordinary subjects still work', async () => {
    for (const subject of [`${namespace()}.raft.metadata.propagate`, `${namespace()}.ack.forged`, `${namespace()}.notify.a`]) {
      const refused = await statusOf(call(client().publishToSubject, client(), { subject, value: Buffer.from('x') }, 3000));
      expect(refused?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refused?.details).toBe(`invalid subject "${subject}": subjects under "${namespace()}." are reserved for the servers`);
    }
    const name = unique('plain');
    await createStream(name);
    expect((await call(client().publishToSubject, client(), { subject: name, value: Buffer.from('x'), ackPolicy: api.AckPolicy.LEADER })).ack!.stream).toBe(name);
  });

  it('invalid UTF-8 in PublishToSubject and CreateStream subjects or names: INVALID_ARGUMENT', async () => {
    const toSubject = await rawCall('PublishToSubject', withInvalidUtf8(api.encodePublishToSubjectRequest({ subject: 'utf.XX', value: Buffer.from('x') }), 'XX'));
    expect([toSubject?.code, toSubject?.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'invalid subject "utf.\ufffd\ufffd": not valid UTF-8']);
    const subject = await rawCall('CreateStream', withInvalidUtf8(api.encodeCreateStreamRequest({ name: 'utf-subject', subject: 'utf.XX' }), 'XX'));
    expect([subject?.code, subject?.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'Subject is invalid']);
    const name = await rawCall('CreateStream', withInvalidUtf8(api.encodeCreateStreamRequest({ name: 'utf-nameXX', subject: 'utf.name' }), 'XX'));
    expect(name?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('an expected offset below -1: INVALID_ARGUMENT; through NATS on an optimistic-concurrency stream, INCORRECT_OFFSET', async () => {
    const name = unique('occ');
    await createStream(name, { optimisticConcurrencyControl: { value: true } });
    const refused = await statusOf(call(client().publish, client(), { stream: name, value: Buffer.from('x'), expectedOffset: -5n }, 3000));
    expect([refused?.code, refused?.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'invalid expectedOffset: -5 (-1 for no check, else an offset >= 0)']);
    const inbox = `${name}.acks`;
    const acks: api.Ack[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, msg) => acks.push(decodeAckEnvelope(msg.data)) });
    await nc.flush();
    nc.publish(name, encodePublishEnvelope({ value: Buffer.from('x'), ackInbox: inbox, correlationId: 'neg', expectedOffset: -5 }));
    await waitFor(() => acks.length === 1, 5000, 'the ack');
    sub.unsubscribe();
    expect(acks[0]!.ackError).toBe(api.AckError.INCORRECT_OFFSET);
    const meta = await call(client().fetchPartitionMetadata, client(), { stream: name, partition: 0 });
    expect(meta.metadata!.newestOffset).toBe(-1n);
  });
});

describe('start-up', () => {
  it('refuses clustering.replication.max.bytes above the NATS server max_payload (bad input C13)', async () => {
    const config = testBrokerConfig(nats.url, { clustering: { replicationMaxBytes: 2 * 1024 * 1024 } });
    const started = await startTestBroker(config).catch((error: Error) => error);
    if (!(started instanceof Error)) await started.destroy(); // must not happen; then stop it anyway
    fs.rmSync(config.dataDir, { recursive: true, force: true });
    expect(started instanceof Error ? started.message : 'started').toMatch(/^clustering\.replication\.max\.bytes \(2097152\) exceeds the NATS server's max_payload \(1048576\)/);
  });
});
