import * as grpc from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { AckPolicy, encodePublishRequest } from '../../src/protocol/api-proto';
import { STALL_MS } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { grpcFramed, Http2UnaryClient } from '../support/http2-unary';
import { connectRawClient, isPublishAck, type RawApiClient } from '../support/raw-api-client';
import { CALL_DEADLINE_MS, callSequentially } from '../support/sequential-calls';
import { timedCpu } from '../support/timed-cpu';
import { quantile } from '../support/stats';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

/** Sends one pre-encoded Publish and reports the problem, or null for a response carrying an ack. */
type UnaryPublisher = { call(done: (problem: string | null) => void): void; close(): void };

const noAck = 'the Publish response carries no ack';

function grpcJsPublisher(client: RawApiClient, request: Buffer): UnaryPublisher {
  return {
    call: (done) =>
      client.publish(request, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) =>
        done(error ? `unary Publish failed: ${grpc.status[error.code]} ${error.details}` : !response || !isPublishAck(response) ? noAck : null),
      ),
    close: () => client.close(),
  };
}

function http2Publisher(client: Http2UnaryClient, request: Buffer): UnaryPublisher {
  const framed = grpcFramed(request);
  return {
    call: (done) => client.call(framed, CALL_DEADLINE_MS, (problem, response) => done(problem !== null ? `unary Publish failed: ${problem}` : !response || !isPublishAck(response) ? noAck : null)),
    close: () => client.close(),
  };
}

/** Unary Publish calls one after the other, each with a deadline; a response without an ack fails the run. */
function publishSequentially(publisher: UnaryPublisher, total: number): Promise<{ elapsedNs: bigint; latenciesMs: Float64Array }> {
  return callSequentially(total, (_i, done) => publisher.call(done));
}

/**
 * Untimed calls on each run's fresh partition before its timed ones: the first publishes of a new
 * leader write its epoch checkpoint, open its files and take the code's cold paths; the latency
 * target is about the steady state.
 */
const LEAN_WARM_CALLS = 500;

/**
 * liftbridge-ts (c): gRPC Publish, one at a time (ackPolicy LEADER): throughput and p50/p99 latency.
 * Through the lean HTTP/2 client (docs/benchmarks.md "Clients"): grpc-js costs about 0.2 ms of
 * client time per call, on the critical path of every latency it times.
 */
export const liftbridgePublishUnaryCase: BenchCase = unaryPublishCase('lb-publish-unary', 'liftbridge gRPC Publish (1 at a time)', AckPolicy.LEADER, 'http2', LEAN_WARM_CALLS);

/**
 * The same with AckPolicy ALL: the baseline of SetCursor, which writes its record with ALL
 * (liftbridge-set-cursor.ts), so through the same grpc-js client and warm-up as that case.
 */
export const liftbridgePublishUnaryAllCase: BenchCase = unaryPublishCase('lb-publish-unary-all', 'liftbridge gRPC Publish ALL (1 at a time)', AckPolicy.ALL, 'grpc-js', 0);

function unaryPublishCase(id: 'lb-publish-unary' | 'lb-publish-unary-all', title: string, ackPolicy: AckPolicy, client: 'http2' | 'grpc-js', warmCalls: number): BenchCase {
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
        const publisher =
          client === 'http2'
            ? http2Publisher(await Http2UnaryClient.connect(ctx.liftbridgeAddress, 'Publish'), request)
            : grpcJsPublisher(await connectRawClient(ctx.liftbridgeAddress), request);
        try {
          // Every call has its own deadline; this bounds the whole run as well.
          const budgetMs = STALL_MS + (warmCalls + total) * CALL_DEADLINE_MS;
          if (warmCalls > 0) {
            await withDeadline(publishSequentially(publisher, warmCalls), budgetMs, 'unary Publish warm-up');
            timedCpu.take(); // the client's CPU of the timed calls only
          }
          const { elapsedNs, latenciesMs } = await withDeadline(publishSequentially(publisher, total), budgetMs, 'unary Publish run');
          latenciesMs.sort();
          return {
            messages: total,
            seconds: Number(elapsedNs) / 1e9,
            p50Ms: quantile(latenciesMs, 0.5),
            p99Ms: quantile(latenciesMs, 0.99),
          };
        } finally {
          publisher.close();
        }
      } finally {
        await closeNats(nc);
        await deleteStream(ctx.control, name, ctx.progress);
      }
    },
  };
}
