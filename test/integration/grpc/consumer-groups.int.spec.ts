import * as grpc from '@grpc/grpc-js';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/wait-for';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** A short consumer timeout, so that the expiry of a silent member is seen within the test. */
const CONSUMER_TIMEOUT_MS = 3000;
const COORDINATOR_TIMEOUT_MS = 2000;

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url, { groups: { consumerTimeoutMs: CONSUMER_TIMEOUT_MS, coordinatorTimeoutMs: COORDINATOR_TIMEOUT_MS } }));
  client = connectClient(server.address);
  await call(client.createStream, client, { name: 'foo', subject: 'foo', partitions: 2 });
  await call(client.createStream, client, { name: 'bar', subject: 'bar', partitions: 2 });
});

afterAll(async () => {
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

const refusal = (promise: Promise<unknown>): Promise<{ code: string; details: string }> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => ({ code: grpc.status[e.code], details: e.details }),
  );

const join = (groupId: string, consumerId: string, streams: string[]) => call(client.joinConsumerGroup, client, { groupId, consumerId, streams });
const fetch = (groupId: string, consumerId: string, epoch: bigint) => call(client.fetchConsumerGroupAssignments, client, { groupId, consumerId, epoch });
const leave = (groupId: string, consumerId: string) => call(client.leaveConsumerGroup, client, { groupId, consumerId });

describe('consumer groups over gRPC (docs/consumers.md "Consumer groups")', () => {
  it('joins, fetches the assignments, rebalances on a second join, and deletes the group when the last member leaves', async () => {
    const joined = await join('g1', 'c1', ['foo', 'bar']);
    expect(joined).toEqual({
      coordinator: 'a',
      epoch: expect.any(BigInt),
      consumerTimeout: BigInt(CONSUMER_TIMEOUT_MS) * 1_000_000n,
      coordinatorTimeout: BigInt(COORDINATOR_TIMEOUT_MS) * 1_000_000n,
    });
    const first = await fetch('g1', 'c1', joined.epoch);
    expect(first).toEqual({ epoch: joined.epoch, assignments: [{ stream: 'bar', partitions: [0, 1] }, { stream: 'foo', partitions: [0, 1] }] });

    const second = await join('g1', 'c2', ['foo']);
    expect(second.epoch).toBeGreaterThan(joined.epoch);
    expect(await refusal(fetch('g1', 'c1', joined.epoch))).toEqual({ code: 'FAILED_PRECONDITION', details: 'client-provided group epoch differs from broker group epoch' });
    expect((await fetch('g1', 'c2', second.epoch)).assignments).toEqual([{ stream: 'foo', partitions: [0, 1] }]);

    const metadata = await call(client.fetchMetadata, client, { groups: ['g1', 'nope'] });
    expect(metadata.groupMetadata).toEqual([
      { groupId: 'g1', error: api.ConsumerGroupMetadataError.OK, coordinator: 'a', epoch: second.epoch },
      { groupId: 'nope', error: api.ConsumerGroupMetadataError.UNKNOWN_GROUP, coordinator: '', epoch: 0n },
    ]);

    await leave('g1', 'c2');
    await leave('g1', 'c1');
    expect(await refusal(fetch('g1', 'c1', second.epoch))).toEqual({ code: 'NOT_FOUND', details: 'consumer group does not exist' });
  });

  it('answers the refusals with the codes and messages of Liftbridge', async () => {
    expect(await refusal(join('', 'c', ['foo']))).toEqual({ code: 'INVALID_ARGUMENT', details: 'No groupId provided' });
    expect(await refusal(join('g2', '', ['foo']))).toEqual({ code: 'INVALID_ARGUMENT', details: 'No consumerId provided' });
    expect(await refusal(join('g2', 'c', []))).toEqual({ code: 'INVALID_ARGUMENT', details: 'No streams provided' });
    expect(await refusal(join('g2', 'c', ['no-such-stream']))).toEqual({ code: 'FAILED_PRECONDITION', details: 'stream does not exist' });
    const joined = await join('g2', 'c1', ['foo']);
    expect(await refusal(join('g2', 'c1', ['foo']))).toEqual({ code: 'FAILED_PRECONDITION', details: 'consumer is already a member of the consumer group' });
    expect(await refusal(leave('g2', 'c9'))).toEqual({ code: 'FAILED_PRECONDITION', details: 'consumer is not a member of the consumer group' });
    expect(await refusal(leave('nope', 'c1'))).toEqual({ code: 'NOT_FOUND', details: 'consumer group does not exist' });
    expect(await refusal(fetch('g2', 'c9', joined.epoch))).toEqual({ code: 'FAILED_PRECONDITION', details: 'consumer is not a member of the consumer group' });
    const report = (req: Partial<api.ReportConsumerGroupCoordinatorRequest>) =>
      call(client.reportConsumerGroupCoordinator, client, { groupId: 'g2', consumerId: 'c1', coordinator: 'a', epoch: joined.epoch, ...req });
    expect(await refusal(report({ coordinator: '' }))).toEqual({ code: 'INVALID_ARGUMENT', details: 'No coordinator provided' });
    expect(await refusal(report({ groupId: 'nope' }))).toEqual({ code: 'FAILED_PRECONDITION', details: 'No such consumer group nope' });
    expect(await refusal(report({ consumerId: 'c9' }))).toEqual({ code: 'FAILED_PRECONDITION', details: 'Consumer c9 is not a member of consumer group g2' });
    expect(await refusal(report({ epoch: joined.epoch + 1n }))).toEqual({
      code: 'FAILED_PRECONDITION',
      details: `Coordinator generation mismatch, current coordinator: a epoch: ${joined.epoch}, got coordinator: a epoch: ${joined.epoch + 1n}`,
    });
    // The only member reports its only coordinator: no other broker can take the group.
    expect(await refusal(report({}))).toEqual({ code: 'FAILED_PRECONDITION', details: 'No group coordinator candidates' });
    await leave('g2', 'c1');
  });

  it('removes a member that stops fetching its assignments after the consumer timeout', async () => {
    const joined = await join('g3', 'c1', ['foo']);
    await fetch('g3', 'c1', joined.epoch);
    await waitFor(
      async () => (await call(client.fetchMetadata, client, { groups: ['g3'] })).groupMetadata[0]!.error === api.ConsumerGroupMetadataError.UNKNOWN_GROUP,
      CONSUMER_TIMEOUT_MS * 5,
      'the silent member to expire',
      100,
    );
  });
});
