import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { createApiClient } from '../../../src/protocol/api-service-definition';
import { ApiClient, call, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Many Subscribe calls that expire after 1 ms (docs/reliability.md "Bad inputs", A16) end on their own; what else
 * they touch depends on how many RST_STREAM frames the client sends (docs/operability.md,
 * "Clients that cancel many calls at once").
 */
let nats: TestNatsServer;
let server: StartedTestBroker;
let httpPort: number;
const clients: ApiClient[] = [];

beforeAll(async () => {
  nats = await TestNatsServer.start();
  httpPort = await freePort();
  server = await startTestBroker(testBrokerConfig(nats.url, { http: { host: '127.0.0.1', port: httpPort } }));
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.destroy();
  await nats?.stop();
});

/** A client on its own HTTP/2 connection (grpc-js shares connections between clients by default). */
function ownConnection(): ApiClient {
  const client = createApiClient(server.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  clients.push(client);
  return client;
}

/** Starts `count` Subscribe calls with a 1 ms deadline on `client`; resolves with their final status codes. */
function expiringSubscribes(client: ApiClient, stream: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((resolve) => {
          const call = client.subscribe({ stream }, { deadline: Date.now() + 1 });
          call.on('data', () => undefined);
          call.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code]!));
          call.on('status', (s: grpc.StatusObject) => resolve(grpc.status[s.code]!));
        }),
    ),
  );
}

async function openSubscriptions(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('liftbridge_subscriptions '));
  return Number(line?.split(' ')[1]);
}

const publish = (client: ApiClient, stream: string, value: string): Promise<api.PublishResponse> =>
  call(client.publish, client, { stream, value: Buffer.from(value), expectedOffset: -1n });

describe('Subscribe calls with a 1 ms deadline', () => {
  it('800 on one connection: only they end; a long Subscribe and FetchMetadata on the same connection keep working', async () => {
    const client = ownConnection();
    await call(client.createStream, client, { name: 'burst', subject: 'burst.subject' });
    const long = subscribe(client, { stream: 'burst' });
    await long.ready;

    let burstOver = false;
    const metadataCalls = (async () => {
      let ok = 0;
      while (!burstOver) {
        await call(client.fetchMetadata, client, { streams: ['burst'] });
        ok++;
      }
      return ok;
    })();
    const codes = await expiringSubscribes(client, 'burst', 800);
    burstOver = true;
    expect(await metadataCalls).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['DEADLINE_EXCEEDED']));

    await publish(client, 'burst', 'after the burst');
    expect((await long.waitFor(1))[0]!.value).toEqual(Buffer.from('after the burst'));
    await waitFor(async () => (await openSubscriptions()) === 1, 10_000, 'the expired subscriptions to be released');
    long.cancel();
    await long.done;
  }, 60_000);

  it('2,000 on one connection: other connections are unaffected, nothing leaks, and that client works again on its next call', async () => {
    const bystander = ownConnection();
    const resetter = ownConnection();
    await call(bystander.createStream, bystander, { name: 'flood', subject: 'flood.subject' });
    const watching = subscribe(bystander, { stream: 'flood' });
    await watching.ready;

    const codes = await expiringSubscribes(resetter, 'flood', 2000);
    expect(new Set(codes)).toEqual(new Set(['DEADLINE_EXCEEDED']));

    await publish(bystander, 'flood', 'still here');
    expect((await watching.waitFor(1))[0]!.value).toEqual(Buffer.from('still here'));
    // Above nghttp2's RST_STREAM budget its connection may have been closed (GOAWAY); the next call reconnects.
    expect((await call(resetter.fetchMetadata, resetter, { streams: ['flood'] })).streamMetadata[0]!.name).toBe('flood');
    await waitFor(async () => (await openSubscriptions()) === 1, 10_000, 'the expired subscriptions to be released');
    watching.cancel();
    await watching.done;
  }, 60_000);
});
