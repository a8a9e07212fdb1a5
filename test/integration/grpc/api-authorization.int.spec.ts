import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, createApiClient } from '../../../src/protocol/api-service-definition';
import { LiftbridgeClient, NotAuthorizedError } from '../../../src/client';
import { call, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { CertificateFiles, createTestCertificates, TestCertificates } from '../../support/test-certificates';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Client certificates and authorization on the client API (docs/security.md), with Liftbridge
 * 1.9's model and example policy files loaded verbatim: `client1` may do everything on `foo` (and
 * create `bar`), `client2` nothing.
 */

const AUTHZ = path.join(__dirname, '../../support/authz');

let nats: TestNatsServer;
let certs: TestCertificates;
let server: StartedTestBroker;
let policyFile: string;
const clients: ApiClient[] = [];

function clientWith(identity: CertificateFiles | null, ca: Buffer = certs.ca): ApiClient {
  const credentials = identity === null ? grpc.credentials.createSsl(ca) : grpc.credentials.createSsl(ca, identity.key, identity.cert);
  const client = createApiClient(server.address, credentials);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  certs = createTestCertificates();
  policyFile = path.join(certs.dir, 'policy.csv');
  fs.copyFileSync(path.join(AUTHZ, 'policy.csv'), policyFile);
  nats = await TestNatsServer.start();
  server = await startTestBroker(
    testBrokerConfig(nats.url, {
      tls: {
        key: certs.server.keyFile,
        cert: certs.server.certFile,
        clientAuthEnabled: true,
        clientAuthCa: certs.caFile,
        clientAuthzEnabled: true,
        clientAuthzModel: path.join(AUTHZ, 'model.conf'),
        clientAuthzPolicy: policyFile,
      },
    }),
  );
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.destroy();
  await nats?.stop();
  certs?.remove();
});

const denied = (action: string, object: string) => ({ code: grpc.status.UNKNOWN, details: `The client is not authorized to call ${action} on resource ${object}` });

/** Subscribes to `stream`; resolves once the server set the subscription up, rejects with the status that ended it. */
async function subscribed(client: ApiClient, stream: string): Promise<void> {
  const subscription = subscribe(client, { stream, startPosition: api.StartPosition.EARLIEST });
  const first = await Promise.race([subscription.ready.then(() => null), subscription.done]);
  subscription.cancel();
  if (first !== null) throw first;
}

/** Sends requests on one PublishAsync call and collects one response per request. */
async function publishAsync(client: ApiClient, requests: readonly api.PublishRequest[] | readonly Partial<api.PublishRequest>[]): Promise<Map<string, api.PublishResponse>> {
  const stream = client.publishAsync();
  const responses = new Map<string, api.PublishResponse>();
  stream.on('data', (r: api.PublishResponse) => responses.set(r.correlationId, r));
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const request of requests) stream.write({ expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER, ...request });
  stream.end();
  await ended;
  return responses;
}

describe('client certificates (mTLS)', () => {
  it.each([
    ['no client certificate', null],
    ['a certificate from another CA', 'foreignClient'],
    ['an expired certificate', 'expiredClient'],
  ] as const)('refuses the handshake of a client with %s', async (_what, identity) => {
    const client = clientWith(identity === null ? null : certs[identity]);
    await expect(call(client.fetchMetadata, client, { streams: [], groups: [] }, 5000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('refuses a plaintext client', async () => {
    const client = createApiClient(server.address, grpc.credentials.createInsecure());
    clients.push(client);
    await expect(call(client.fetchMetadata, client, { streams: [], groups: [] }, 5000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('the TypeScript client names a missing client certificate', async () => {
    const error = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.ca }, retry: { attempts: 1 } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^TLS handshake failed: the server requires a client certificate/);
  });
});

describe('authorization by the certificate Common Name, every RPC of the table', () => {
  const rpcs: readonly (readonly [string, string, string, (c: ApiClient) => Promise<unknown>])[] = [
    ['CreateStream', 'CreateStream', 'foo', (c) => call(c.createStream, c, { name: 'foo', subject: 'foo', partitions: 1 })],
    ['FetchMetadata', 'FetchMetadata', '*', (c) => call(c.fetchMetadata, c, { streams: ['foo'], groups: [] })],
    ['FetchPartitionMetadata', 'FetchPartitionMetadata', 'foo', (c) => call(c.fetchPartitionMetadata, c, { stream: 'foo', partition: 0 })],
    ['Publish', 'Publish', 'foo', (c) => call(c.publish, c, { stream: 'foo', value: Buffer.from('unary'), expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER })],
    ['PublishToSubject', 'PublishToSubject', 'foo', (c) => call(c.publishToSubject, c, { subject: 'foo', value: Buffer.from('raw'), ackPolicy: api.AckPolicy.LEADER })],
    ['Subscribe', 'Subscribe', 'foo', (c) => subscribed(c, 'foo')],
    ['SetStreamReadonly', 'SetStreamReadonly', 'foo', (c) => call(c.setStreamReadonly, c, { name: 'foo', readonly: false })],
    ['PauseStream', 'PauseStream', 'foo', (c) => call(c.pauseStream, c, { name: 'foo' })],
    ['SetCursor', 'SetCursor', 'foo', (c) => call(c.setCursor, c, { stream: 'foo', partition: 0, cursorId: 'c', offset: 1n })],
    ['FetchCursor', 'FetchCursor', 'foo', (c) => call(c.fetchCursor, c, { stream: 'foo', partition: 0, cursorId: 'c' })],
    ['DeleteStream', 'DeleteStream', 'foo', (c) => call(c.deleteStream, c, { name: 'foo' })],
  ];

  it.each(rpcs)('%s: denied to client2 with Liftbridge\'s status and message, allowed to client1', async (_rpc, action, object, invoke) => {
    const client1 = clientWith(certs.client1);
    const client2 = clientWith(certs.client2);
    await expect(invoke(client2)).rejects.toMatchObject(denied(action, object));
    const outcome = await invoke(client1).then(
      () => 'ok',
      (error: grpc.ServiceError) => `${error.code} ${error.details}`,
    );
    // Cursors are not enabled on this server: past the check they answer that __cursors does not exist, nothing else may fail.
    expect(outcome).toBe(action === 'SetCursor' || action === 'FetchCursor' ? `${grpc.status.INTERNAL} Cursors stream does not exist` : 'ok');
  });

  it('SetCursor also needs Publish on __cursors', async () => {
    const cursorOnly = certs.issue('cursor-only', 'cursor-only');
    fs.appendFileSync(policyFile, '\np, cursor-only, foo, SetCursor\n');
    try {
      await server.broker.reloadSecurity();
      const client = clientWith(cursorOnly);
      await expect(call(client.setCursor, client, { stream: 'foo', partition: 0, cursorId: 'c', offset: 1n })).rejects.toMatchObject(denied('Publish', '__cursors'));
    } finally {
      fs.copyFileSync(path.join(AUTHZ, 'policy.csv'), policyFile);
      await server.broker.reloadSecurity();
    }
  });

  it('leaves the consumer-group RPCs unchecked, as Liftbridge does', async () => {
    const client2 = clientWith(certs.client2);
    // Past authorization: the group service itself refuses the unknown stream.
    await expect(call(client2.joinConsumerGroup, client2, { groupId: 'g', consumerId: 'c', streams: ['no-such-stream'] })).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: 'stream does not exist',
    });
  });
});

describe('PublishAsync: every request is checked, and a denied one is not published', () => {
  it('answers PERMISSION_DENIED to the requests for a stream the client may not publish to, and acks the others', async () => {
    const client1 = clientWith(certs.client1);
    await call(client1.createStream, client1, { name: 'foo', subject: 'foo', partitions: 1 }).catch((e: grpc.ServiceError) => {
      if (e.code !== grpc.status.ALREADY_EXISTS) throw e;
    });
    await call(client1.createStream, client1, { name: 'bar', subject: 'bar', partitions: 1 });
    const before = (await call(client1.fetchMetadata, client1, { streams: ['foo', 'bar'], groups: [] })).streamMetadata;
    const newest = (name: string, metadata: readonly api.StreamMetadata[]): bigint => metadata.find((s) => s.name === name)!.partitions[0]!.newestOffset;
    const responses = await publishAsync(client1, [
      { stream: 'foo', value: Buffer.from('1'), correlationId: 'foo-1' },
      { stream: 'bar', value: Buffer.from('2'), correlationId: 'bar-1' },
      { stream: 'foo', value: Buffer.from('3'), correlationId: 'foo-2' },
      { stream: 'bar', value: Buffer.from('4'), correlationId: 'bar-2' },
    ]);
    expect(responses.get('foo-1')!.ack!.offset).toBe(newest('foo', before) + 1n);
    expect(responses.get('foo-2')!.ack!.offset).toBe(newest('foo', before) + 2n);
    for (const id of ['bar-1', 'bar-2']) {
      expect(responses.get(id)!.asyncError).toEqual({ code: api.PublishAsyncErrorCode.PERMISSION_DENIED, message: 'The client is not authorized to call Publish on resource bar' });
    }
    const after = (await call(client1.fetchMetadata, client1, { streams: ['bar'], groups: [] })).streamMetadata;
    expect(newest('bar', after)).toBe(-1n); // Go Liftbridge publishes the denied message anyway
  });

  it('the TypeScript client reports a denial as NotAuthorizedError', async () => {
    const client = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.ca, cert: certs.client2.cert, key: certs.client2.key } }).catch((e: unknown) => e);
    // client2 may not even fetch metadata
    expect(client).toBeInstanceOf(NotAuthorizedError);
    expect((client as Error).message).toBe('The client is not authorized to call FetchMetadata on resource *');
  });
});

describe('policy reload', () => {
  afterEach(async () => {
    fs.copyFileSync(path.join(AUTHZ, 'policy.csv'), policyFile);
    await server.broker.reloadSecurity();
  });

  it('applies a new policy to open PublishAsync calls, and keeps the policy in force when the new file is bad', async () => {
    fs.appendFileSync(policyFile, '\np, client1, reload, CreateStream\n');
    await server.broker.reloadSecurity();
    const client1 = clientWith(certs.client1);
    await call(client1.createStream, client1, { name: 'reload', subject: 'reload', partitions: 1 });
    const client2 = clientWith(certs.client2);
    const stream = client2.publishAsync();
    const responses: api.PublishResponse[] = [];
    stream.on('data', (r: api.PublishResponse) => responses.push(r));
    stream.on('error', () => undefined);
    const send = async (id: string): Promise<api.PublishResponse> => {
      stream.write({ stream: 'reload', value: Buffer.from(id), correlationId: id, expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER });
      await waitFor(() => responses.some((r) => r.correlationId === id), 10_000, `the answer to ${id}`);
      return responses.find((r) => r.correlationId === id)!;
    };
    try {
      expect((await send('before')).asyncError?.code).toBe(api.PublishAsyncErrorCode.PERMISSION_DENIED);

      fs.appendFileSync(policyFile, '\np, client2, reload, Publish\n');
      await server.broker.reloadSecurity();
      const granted = await send('granted');
      expect(granted.asyncError).toBeUndefined();
      expect(granted.ack?.offset).toBe(0n);

      // A file Casbin would half-load (an unterminated quote) is refused; client2 keeps its grant.
      fs.writeFileSync(policyFile, 'p, client2, "reload, Publish\n');
      await server.broker.reloadSecurity();
      expect(server.logs.lines.some((l) => l.msg === 'authorization policy not reloaded: the policy in force is kept' && l.key === 'tls.client.authz.policy')).toBe(true);
      const still = await send('still');
      expect(still.asyncError).toBeUndefined();
      expect(still.ack?.offset).toBe(1n);

      // So is a rule with a field missing (Casbin keeps it, and it never matches).
      fs.writeFileSync(policyFile, 'p, client2, reload\n');
      await server.broker.reloadSecurity();
      const again = await send('again');
      expect(again.asyncError).toBeUndefined();
      expect(again.ack?.offset).toBe(2n);
      const kept = server.logs.lines.filter((l) => l.msg === 'authorization policy not reloaded: the policy in force is kept');
      expect(kept.map((l) => l.reason)).toEqual([expect.stringContaining('Quote Not Closed'), expect.stringContaining('has 2 fields where the model\'s "p" has 3')]);
    } finally {
      stream.end();
    }
  });
});
