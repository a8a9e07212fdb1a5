import * as grpc from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { AckPolicy, encodePublishRequest } from '../../src/protocol/api-proto';
import { STALL_MS } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { connectRawClient, isPublishAck, type RawApiClient } from '../support/raw-api-client';
import { CALL_DEADLINE_MS, callSequentially } from '../support/sequential-calls';
import { quantile } from '../support/stats';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

/** Unary Publish calls one after the other, each with a deadline; a response without an ack fails the run. */
function publishSequentially(client: RawApiClient, request: Buffer, total: number): Promise<{ elapsedNs: bigint; latenciesMs: Float64Array }> {
  return callSequentially(total, (_i, done) =>
    client.publish(request, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) =>
      done(error ? `unary Publish failed: ${grpc.status[error.code]} ${error.details}` : !response || !isPublishAck(response) ? 'the Publish response carries no ack' : null),
    ),
  );
}

/** liftbridge-ts (c): gRPC Publish, one at a time (ackPolicy LEADER): throughput and p50/p99 latency. */
export const liftbridgePublishUnaryCase: BenchCase = unaryPublishCase('lb-publish-unary', 'liftbridge gRPC Publish (1 at a time)', AckPolicy.LEADER);

/** The same with AckPolicy ALL: the baseline of SetCursor, which writes its record with ALL (liftbridge-set-cursor.ts). */
export const liftbridgePublishUnaryAllCase: BenchCase = unaryPublishCase('lb-publish-unary-all', 'liftbridge gRPC Publish ALL (1 at a time)', AckPolicy.ALL);

function unaryPublishCase(id: 'lb-publish-unary' | 'lb-publish-unary-all', title: string, ackPolicy: AckPolicy): BenchCase {
  return {
    id,
    title,
    async run(ctx, size, run) {
      const total = ctx.config.unaryCount;
      const name = `bench-${id}-${size}-r${run}`;
      const subject = `bench.${id}.${size}.r${run}`;
      const request = encodePublishRequest({ stream: name, value: payload(size), ackPolicy, expectedOffset: -1 });
      let nc: NatsConnection | undefined;
      await createStream(ctx.control, name, subject);
      try {
        nc = await connectNats(ctx.natsUrl, 'bench-lb-warm-up');
        await warmUpPartition(nc, subject);
        const client = await connectRawClient(ctx.liftbridgeAddress);
        try {
          // Every call has its own deadline; this bounds the whole run as well.
          const budgetMs = STALL_MS + total * CALL_DEADLINE_MS;
          const { elapsedNs, latenciesMs } = await withDeadline(publishSequentially(client, request, total), budgetMs, 'unary Publish run');
          latenciesMs.sort();
          return {
            messages: total,
            seconds: Number(elapsedNs) / 1e9,
            p50Ms: quantile(latenciesMs, 0.5),
            p99Ms: quantile(latenciesMs, 0.99),
          };
        } finally {
          client.close();
        }
      } finally {
        await closeNats(nc);
        await deleteStream(ctx.control, name, ctx.progress);
      }
    },
  };
}
