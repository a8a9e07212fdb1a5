import type { NatsConnection } from 'nats';
import { AckPolicy } from '../../src/protocol/api-proto';
import { publishEnveloped, warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { createStream, deleteStream, type StreamReplication } from '../support/streams';
import type { BenchCase, CaseId } from '../types';

/** Long enough for a new partition's followers to start fetching and the first ALL ack to commit. */
const WARM_UP_MS = 30_000;

/**
 * liftbridge-ts, replicated: the acked NATS publish case (enveloped publishes on the stream subject,
 * one shared ack inbox, up to `window` unacknowledged, counted when acked) with AckPolicy ALL, on
 * a stream of the three-server cluster. An ALL ack is sent once the message is committed: every
 * replica in the ISR has it durably (fsync before ack on each server, the default) and the high
 * watermark passed it. The partition leader is wherever the controller placed it; publishes go
 * through the cluster's one nats-server straight to it.
 *
 * Built twice: replication factor 3 with minIsr 2 (the measurement), and replication factor 1 on
 * the same cluster (the single-replica figure with the same ack policy, the same servers and the
 * same ack path, for the "replicated / single-replica" ratio).
 */
function replicatedPublishCase(id: CaseId, title: string, tag: string, replication: StreamReplication): BenchCase {
  return {
    id,
    title,
    liftbridge: 'cluster',
    phase: 'clusters',
    async run(ctx, size, run) {
      const total = ctx.config.publishCount;
      const name = `bench-${tag}-${size}-r${run}`;
      const subject = `bench.${tag}.${size}.r${run}`;
      if (ctx.cluster === null) throw new Error('the liftbridge-ts cluster runs in the cluster phase only');
      const { control } = ctx.cluster;
      let nc: NatsConnection | undefined;
      await createStream(control, name, subject, replication);
      try {
        nc = await connectNats(ctx.natsUrl, `bench-lb-${tag}`);
        const warmUps = await warmUpPartition(nc, subject, WARM_UP_MS, AckPolicy.ALL);
        const result = await publishEnveloped(ctx.natsUrl, subject, payload(size), total, ctx.config.window, title, AckPolicy.ALL);
        const minimum = BigInt(total);
        if (result.lastOffset < minimum || result.lastOffset >= minimum + BigInt(warmUps)) {
          throw new Error(`${title}: last ack has offset ${result.lastOffset}, expected ${total}..${total + warmUps - 1}`);
        }
        return { messages: total, seconds: Number(result.elapsedNs) / 1e9 };
      } finally {
        await closeNats(nc);
        await deleteStream(control, name, ctx.progress);
      }
    },
  };
}

export const liftbridgeReplicatedAllR3Case: BenchCase = replicatedPublishCase(
  'lb-nats-publish-all-r3',
  'liftbridge NATS publish ALL, R3 minIsr 2',
  'natspuball3',
  { replicationFactor: 3, minIsr: 2 },
);

export const liftbridgeReplicatedAllR1Case: BenchCase = replicatedPublishCase(
  'lb-nats-publish-all-r1',
  'liftbridge NATS publish ALL, R1 (cluster)',
  'natspuball1',
  { replicationFactor: 1 },
);
