import * as grpc from '@grpc/grpc-js';
import { connect, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { ApiClient, call, subscribe } from '../../support/api-calls';
import { InProcessCluster } from '../../support/in-process-cluster';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

/**
 * Replies within the NATS payload limit (docs/replication.md "Message size") on three in-process servers and a real nats-server (max_payload 1 MiB, the
 * default, as is replication.max.bytes): a reply is a 24-byte header plus records, so records
 * sized to 1 MiB made a reply the NATS client refused, and a follower catching up stayed behind
 * forever; one message of ~1 MiB wedged every later AckPolicy ALL publish. Now a reply never
 * exceeds max_payload, and a record that could never be replicated is refused at publish time
 * (docs/reliability.md "Scenarios", scenario 20: the limit -1, the limit, the limit +1).
 */
const MiB = 1024 * 1024;
/** With `clustering.auth.secret` every internal message carries a 32-byte HMAC tag (docs/cluster.md). */
const SECRET = 'a-cluster-secret-of-at-least-32-bytes!';

describe.each([
  ['without a cluster secret', undefined, 0],
  ['with a cluster secret (signed replies)', SECRET, 32],
])('%s', (_name: string, secret: string | undefined, macBytes: number) => {
  const ids = ['a', 'b', 'c'];
  const namespace = `lim${Math.floor(Math.random() * 1e9)}${secret === undefined ? '' : 's'}`;
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let cluster: InProcessCluster;

  const client = (id: string): ApiClient => cluster.client(id);
  const live = (): string[] => cluster.live();

  async function partition(stream: string): Promise<api.PartitionMetadata> {
    const via = live()[0]!;
    return (await call(client(via).fetchMetadata, client(via), { streams: [stream] })).streamMetadata[0]!.partitions[0]!;
  }

  /** The partition leader once its leader role runs, and its view of the partition. */
  async function leaderOf(stream: string): Promise<string> {
    let leader = '';
    await waitFor(async () => {
      leader = (await partition(stream)).leader;
      if (leader === '' || cluster.isStopped(leader)) return false;
      return call(client(leader).fetchPartitionMetadata, client(leader), { stream, partition: 0 }).then(() => true, () => false);
    }, 10_000, `the leader of ${stream}`);
    return leader;
  }

  const onLeader = async (stream: string): Promise<api.PartitionMetadata> => {
    const leader = await leaderOf(stream);
    return (await call(client(leader).fetchPartitionMetadata, client(leader), { stream, partition: 0 })).metadata!;
  };

  const publishAll = async (stream: string, value: Buffer, timeoutMs = 5000): Promise<api.PublishResponse> => {
    const leader = await leaderOf(stream);
    return call(client(leader).publish, client(leader), { stream, value, ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n }, timeoutMs);
  };

  const statusOf = (promise: Promise<unknown>): Promise<grpc.ServiceError | null> => promise.then(() => null, (e: grpc.ServiceError) => e);

  beforeAll(async () => {
    nats = await TestNatsServer.start();
    nc = await connect({ servers: nats.url });
    cluster = new InProcessCluster(nats.url, ids, namespace, undefined, secret);
    await cluster.startAll();
    await waitFor(async () => (await call(client('c').fetchMetadata, client('c'), {})).brokers.length === 3, 10_000, 'three brokers');
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.destroy();
    await nats?.stop();
  });

  describe('replication replies within NATS max_payload', () => {
    it('a follower stopped while more than 1 MiB of small records accumulated catches up and rejoins the ISR', async () => {
      expect(nc.info!.max_payload).toBe(MiB);
      // Entries of exactly 256 B and 1 KiB (68 + subject + value): 4,096 or 1,024 of them fill 1 MiB exactly.
      const streams = [
        { name: 'b256', entryBytes: 256, count: 5000 },
        { name: 'b1k', entryBytes: 1024, count: 1300 },
      ];
      for (const s of streams) await call(client('a').createStream, client('a'), { name: s.name, subject: s.name, replicationFactor: 3, minIsr: { value: 2 } });
      const leaders = new Set(await Promise.all(streams.map((s) => leaderOf(s.name))));
      const follower = ids.find((id) => !leaders.has(id))!;
      await cluster.stop(follower);

      for (const s of streams) {
        const value = Buffer.alloc(s.entryBytes - 68 - s.name.length, 0x61);
        for (let i = 0; i < s.count; i++) nc.publish(s.name, value);
      }
      await nc.flush();
      for (const s of streams) await waitFor(async () => Number((await onLeader(s.name)).newestOffset) === s.count - 1, 20_000, `${s.count} records in ${s.name}`);
      expect(streams.every((s) => s.entryBytes * s.count > MiB)).toBe(true);
      for (const s of streams) await waitFor(async () => !(await partition(s.name)).isr.includes(follower), 20_000, `${follower} out of the ISR of ${s.name}`);

      await cluster.start(follower);
      for (const s of streams) {
        await waitFor(async () => (await partition(s.name)).isr.includes(follower), 30_000, `${follower} back in the ISR of ${s.name}`);
        // Everything is on the follower: it serves the whole backlog itself (readISRReplica).
        const reader = subscribe(client(follower), { stream: s.name, startPosition: api.StartPosition.EARLIEST, readISRReplica: true });
        const messages = await reader.waitFor(s.count, 20_000);
        reader.cancel();
        await reader.done;
        expect(messages.slice(0, s.count).map((m) => Number(m.offset))).toEqual(Array.from({ length: s.count }, (_, i) => i));
      }
    });
  });

  describe('messages near the limit on a stream with replicationFactor 3 and minIsr 2', () => {
    // Reply header 24 + entry (68 + subject "big" + value) <= 1 MiB (less the 32-byte tag of a signed
    // reply): the largest value is 1,048,481 bytes, 1,048,449 with a secret.
    const LIMIT = MiB - macBytes - 24 - 68 - 'big'.length;

    beforeAll(async () => {
      await waitFor(async () => (await call(client('a').fetchMetadata, client('a'), {})).brokers.length === 3 && live().length === 3, 10_000, 'three brokers');
      await call(client('a').createStream, client('a'), { name: 'big', subject: 'big', replicationFactor: 3, minIsr: { value: 2 } });
      await leaderOf('big');
    });

    it('through gRPC: the limit -1 and the limit are replicated with the ISR intact; the limit +1 is refused (INVALID_ARGUMENT)', async () => {
      expect((await publishAll('big', Buffer.alloc(LIMIT - 1, 1))).ack!.offset).toBe(0n);
      expect((await publishAll('big', Buffer.alloc(LIMIT, 2))).ack!.offset).toBe(1n);
      const refused = await statusOf(publishAll('big', Buffer.alloc(LIMIT + 1, 3)));
      expect(refused?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refused?.details).toBe('message exceeds max replication size');
      expect((await publishAll('big', Buffer.from('after'))).ack!.offset).toBe(2n);
      expect([...(await partition('big')).isr].sort()).toEqual(ids);
    });

    it('through plain NATS: TOO_LARGE for the limit +1 with an AckInbox, nothing stored without one; later ALL publishes go on', async () => {
      const inbox = `${namespace}-acks`;
      const acks: api.Ack[] = [];
      const sub = nc.subscribe(inbox, { callback: (_e, msg) => acks.push(decodeAckEnvelope(msg.data)) });
      await nc.flush();
      const envelope = (value: Buffer, correlationId: string): Uint8Array =>
        encodePublishEnvelope({ value, ackInbox: inbox, correlationId, ackPolicy: api.AckPolicy.ALL, expectedOffset: -1 });
      nc.publish('big', envelope(Buffer.alloc(LIMIT, 4), 'at'));
      nc.publish('big', envelope(Buffer.alloc(LIMIT + 1, 5), 'over'));
      nc.publish('big', Buffer.alloc(MiB, 6)); // a raw payload of max_payload: its entry cannot be replicated
      nc.publish('big', Buffer.alloc(LIMIT + 1, 7));
      await nc.flush();
      await waitFor(() => acks.length === 2, 10_000, 'two acks');
      sub.unsubscribe();
      const byId = new Map(acks.map((a) => [a.correlationId, a]));
      expect([byId.get('at')!.ackError, byId.get('at')!.offset]).toEqual([api.AckError.OK, 3n]);
      expect(byId.get('over')!.ackError).toBe(api.AckError.TOO_LARGE);
      expect((await publishAll('big', Buffer.from('after nats'))).ack!.offset).toBe(4n);
      const meta = await onLeader('big');
      expect([Number(meta.newestOffset), Number(meta.highWatermark)]).toEqual([4, 4]);
      expect([...meta.isr].sort()).toEqual(ids);
    });
  });
});
