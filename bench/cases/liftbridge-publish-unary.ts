import * as grpc from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { AckPolicy, encodePublishRequest } from '../../src/protocol/api-proto';
import { STALL_MS } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { connectRawClient, isPublishAck, type RawApiClient } from '../support/raw-api-client';
import { quantile } from '../support/stats';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

const CALL_DEADLINE_MS = 10_000;

/**
 * Sends `total` unary Publish calls one after the other (each with a deadline), recording each
 * call's latency; callback-driven, no promise per call.
 */
export function publishSequentially(client: RawApiClient, request: Buffer, total: number): Promise<{ elapsedNs: bigint; latenciesMs: Float64Array }> {
  return new Promise((resolve, reject) => {
    const latenciesMs = new Float64Array(total);
    let done = 0;
    let callStart = 0n;
    const startedAt = process.hrtime.bigint();
    const next = (): void => {
      callStart = process.hrtime.bigint();
      client.publish(request, { deadline: Date.now() + CALL_DEADLINE_MS }, onResponse);
    };
    const onResponse = (error: grpc.ServiceError | null, response?: Buffer): void => {
      const now = process.hrtime.bigint();
      if (error) return reject(new Error(`unary Publish #${done + 1} of ${total} failed: ${grpc.status[error.code]} ${error.details}`));
      if (!response || !isPublishAck(response)) return reject(new Error(`unary Publish #${done + 1} of ${total}: the response carries no ack`));
      latenciesMs[done++] = Number(now - callStart) / 1e6;
      if (done === total) resolve({ elapsedNs: now - startedAt, latenciesMs });
      else next();
    };
    next();
  });
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
