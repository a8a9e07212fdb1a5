import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * What an optimistic-concurrency mismatch answers on each publish RPC: Go Liftbridge's answers
 * (docs/compatibility.md, "Optimistic concurrency mismatches"), byte for byte where clients match
 * on them (go-liftbridge and our client map the message to ErrIncorrectOffset).
 */
let nats: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
  client = connectClient(server.address);
  await call(client.createStream, client, { name: 'occ', subject: 'occ.subject', optimisticConcurrencyControl: { value: true } });
  const first = await call(client.publish, client, { stream: 'occ', value: Buffer.from('first'), expectedOffset: 0n });
  expect(first.ack!.offset).toBe(0n);
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

describe('an expected-offset mismatch on an OCC stream', () => {
  it('Publish: UNKNOWN "incorrect expected offset", as Go maps the INCORRECT_OFFSET ack', async () => {
    const error = await call(client.publish, client, { stream: 'occ', value: Buffer.from('stale'), expectedOffset: 0n }).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    expect(error && { code: grpc.status[error.code], details: error.details }).toEqual({ code: 'UNKNOWN', details: 'incorrect expected offset' });
  });

  it('PublishAsync: an INCORRECT_OFFSET asyncError with an empty ack and the correlation id; the call goes on', async () => {
    const stream = client.publishAsync();
    const responses: api.PublishResponse[] = [];
    stream.on('data', (r: api.PublishResponse) => responses.push(r));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    stream.write({ stream: 'occ', value: Buffer.from('stale'), correlationId: 'stale', expectedOffset: 7n });
    stream.write({ stream: 'occ', value: Buffer.from('next'), correlationId: 'next', expectedOffset: 1n });
    stream.end();
    await ended;
    const byId = new Map(responses.map((r) => [r.correlationId, r]));
    expect(byId.get('stale')!.asyncError).toEqual({ code: api.PublishAsyncErrorCode.INCORRECT_OFFSET, message: 'incorrect expected offset' });
    expect(byId.get('stale')!.ack).toBeDefined();
    expect(byId.get('stale')!.ack!.offset).toBe(0n);
    expect(byId.get('next')!.asyncError).toBeUndefined();
    expect(byId.get('next')!.ack!.offset).toBe(1n);
  });

  it('PublishToSubject: carries no expected offset, so nothing is checked and the ack comes back as it is', async () => {
    const response = await call(client.publishToSubject, client, { subject: 'occ.subject', value: Buffer.from('raw'), ackPolicy: api.AckPolicy.LEADER });
    expect(response.ack).toMatchObject({ stream: 'occ', offset: 2n, ackError: api.AckError.OK });
  });
});
