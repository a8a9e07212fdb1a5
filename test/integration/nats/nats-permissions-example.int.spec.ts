import * as path from 'node:path';
import { ErrorCode, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { call, readValues } from '../../support/api-calls';
import { InProcessCluster } from '../../support/in-process-cluster';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

/**
 * docs/examples/nats-server-permissions.conf, loaded verbatim into a real nats-server: three
 * servers with the `liftbridge` user form a cluster and replicate (their requests' replies arrive
 * under the namespace, which they may use; they have no `_INBOX.>`), a plain publisher with the
 * `orders-app` user publishes to its stream and gets its acks, and NATS refuses it the cluster's
 * internal subjects, publishing or subscribing, and reading the stream's subject.
 */
const EXAMPLE = path.join(__dirname, '..', '..', '..', 'docs', 'examples', 'nats-server-permissions.conf');
let nats: TestNatsServer;
let cluster: InProcessCluster;

beforeAll(async () => {
  nats = await TestNatsServer.start({ configFile: EXAMPLE });
  cluster = new InProcessCluster(nats.url, ['a', 'b', 'c'], 'liftbridge-default', 2000, undefined, undefined, { user: 'liftbridge', password: 'liftbridge-password' });
  await cluster.startAll();
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
  await nats?.stop();
});

/** The next permission violation NATS reports to `nc`: `<operation> <subject>`. */
function nextViolation(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error' && status.data === ErrorCode.PermissionsViolation) return `${status.permissionContext?.operation} ${status.permissionContext?.subject}`;
    }
    return 'closed';
  })();
}

describe('the example NATS permissions', () => {
  it('let the servers form a cluster and replicate, and a plain publisher publish and get its acks', async () => {
    const b = cluster.client('b');
    await waitFor(async () => (await call(b.fetchMetadata, b, {})).brokers.length === 3, 15_000, 'three brokers');
    // Created through b: forwarded to the controller by a request whose reply comes back under the namespace.
    await call(b.createStream, b, { name: 'orders', subject: 'orders', replicationFactor: 3, minIsr: { value: 3 } });
    await waitFor(async () => {
      const leader = (await call(b.fetchMetadata, b, { streams: ['orders'] })).streamMetadata[0]?.partitions[0]?.leader ?? '';
      return leader !== '' && call(cluster.client(leader).fetchPartitionMetadata, cluster.client(leader), { stream: 'orders', partition: 0 }).then(() => true, () => false);
    }, 15_000, 'the partition leader to serve');

    const app = await nats.connect({ user: 'orders-app', pass: 'orders-app-password' });
    const acks: api.Ack[] = [];
    app.subscribe('acks.orders-app.1', { callback: (_e, m) => acks.push(decodeAckEnvelope(m.data)) });
    await app.flush();
    // The ack needs all three replicas (minIsr 3, AckPolicy ALL): replication over NATS works.
    app.publish('orders', encodePublishEnvelope({ value: Buffer.from('order 1'), ackInbox: 'acks.orders-app.1', correlationId: 'o1', ackPolicy: api.AckPolicy.ALL, expectedOffset: -1 }));
    await waitFor(() => acks.length === 1, 10_000, 'the ack');
    expect([acks[0]!.correlationId, acks[0]!.offset, acks[0]!.ackError]).toEqual(['o1', 0n, api.AckError.OK]);
    for (const id of ['a', 'b', 'c']) {
      expect(await readValues(cluster.client(id), { stream: 'orders', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, 1)).toEqual(['order 1']);
    }
  }, 60_000);

  it('refuse a plain publisher the cluster\'s internal subjects and the stream\'s subject for reading', async () => {
    const app = await nats.connect({ user: 'orders-app', pass: 'orders-app-password' });
    let violation = nextViolation(app);
    app.publish('liftbridge-default.raft.metadata.propagate', Buffer.from('forged command'));
    expect(await violation).toBe('publish liftbridge-default.raft.metadata.propagate');
    violation = nextViolation(app);
    app.subscribe('liftbridge-default.>');
    expect(await violation).toBe('subscription liftbridge-default.>');
    violation = nextViolation(app);
    app.subscribe('orders');
    expect(await violation).toBe('subscription orders');
    violation = nextViolation(app);
    app.subscribe('liftbridge-default._INBOX.>');
    expect(await violation).toBe('subscription liftbridge-default._INBOX.>');

    // The cluster goes on: the publisher's next message is acknowledged by all replicas.
    const acks: api.Ack[] = [];
    app.subscribe('acks.orders-app.2', { callback: (_e, m) => acks.push(decodeAckEnvelope(m.data)) });
    await app.flush();
    app.publish('orders', encodePublishEnvelope({ value: Buffer.from('order 2'), ackInbox: 'acks.orders-app.2', correlationId: 'o2', ackPolicy: api.AckPolicy.ALL, expectedOffset: -1 }));
    await waitFor(() => acks.length === 1, 10_000, 'the ack');
    expect([acks[0]!.offset, acks[0]!.ackError]).toEqual([1n, api.AckError.OK]);
  }, 30_000);
});
