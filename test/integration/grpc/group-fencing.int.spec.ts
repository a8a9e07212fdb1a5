import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Partition ownership fencing over real gRPC (docs/consumers.md "Fencing"): a subscriber of a
 * newer group epoch replaces the group's current subscriber of the partition, whose stream ends
 * with OK; a subscriber of an older epoch is then refused.
 */

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;

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

const publish = (stream: string, value: string) => call(client.publish, client, { stream, value: Buffer.from(value), expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER });

const member = (stream: string, consumerId: string, groupEpoch: bigint) =>
  subscribe(client, { stream, startPosition: api.StartPosition.EARLIEST, consumer: { groupId: 'workers', groupEpoch, consumerId } });

describe('Subscribe with a consumer group member', () => {
  it('ends the older subscriber with OK when a newer epoch subscribes, and then refuses the older epoch', async () => {
    const stream = 'fenced';
    await call(client.createStream, client, { name: stream, subject: stream });
    await publish(stream, 'first');

    const older = member(stream, 'a', 5n);
    expect((await older.waitFor(1)).map((m) => m.value.toString())).toEqual(['first']);

    const newer = member(stream, 'b', 6n);
    await newer.ready;
    const replaced = await older.done;
    expect(grpc.status[replaced.code]).toBe('OK');

    const stale = member(stream, 'a', 5n);
    const refused = await stale.done;
    expect(grpc.status[refused.code]).toBe('FAILED_PRECONDITION');
    expect(refused.details).toBe('Consumer is not currently assigned this partition');

    await publish(stream, 'second');
    expect((await newer.waitFor(2)).map((m) => m.value.toString())).toEqual(['first', 'second']);
    expect(older.messages.map((m) => m.value.toString())).toEqual(['first']);
    newer.cancel();
    await newer.done;
  });
});
