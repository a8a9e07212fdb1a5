import type { NatsConnection } from 'nats';
import { AckPolicy, decodePublishResponse, encodePublishRequest } from '../../src/protocol/api-proto';
import type { ApiClient } from '../../src/protocol/api-service-definition';
import { AckWindow } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { publishAsyncHttp2 } from '../support/http2-publish-async';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { connectRawClient, isPublishAck, isPublishAckAt } from '../support/raw-api-client';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase, BenchContext } from '../types';

/** The partition's newest offset, from FetchPartitionMetadata on its leader (this server). */
function newestOffset(control: ApiClient, stream: string): Promise<bigint> {
  return new Promise((resolve, reject) =>
    control.fetchPartitionMetadata({ stream, partition: 0 }, { deadline: Date.now() + 10_000 }, (error, response) =>
      error || !response?.metadata ? reject(error ?? new Error(`no metadata for ${stream}`)) : resolve(response.metadata.newestOffset),
    ),
  );
}

/** Through the lean HTTP/2 client (http2-publish-async.ts); every response is checked, the stored count too. */
async function publishLean(ctx: BenchContext, name: string, request: Uint8Array, total: number, warmUps: number): Promise<bigint> {
  const { elapsedNs, unchecked } = await publishAsyncHttp2(ctx.liftbridgeAddress, request, total, ctx.config.window, 'liftbridge PublishAsync', isPublishAckAt);
  const newest = await newestOffset(ctx.control, name);
  if (newest !== BigInt(total + warmUps - 1)) throw new Error(`PublishAsync: the partition's newest offset is ${newest}, expected ${total + warmUps - 1} (${unchecked} responses unchecked)`);
  return elapsedNs;
}

/** Through grpc-js with pre-encoded requests and undecoded responses (raw-api-client.ts). */
async function publishGrpcJs(ctx: BenchContext, request: Uint8Array, total: number, warmUps: number): Promise<bigint> {
  const client = await connectRawClient(ctx.liftbridgeAddress);
  try {
    const call = client.publishAsync();
    const last: { response: Buffer } = { response: Buffer.alloc(0) };
    const bytes = Buffer.from(request);
    const pipeline = new AckWindow('liftbridge PublishAsync (grpc-js)', total, ctx.config.window, () => call.write(bytes));
    call.on('data', (response: Buffer) => {
      if (!isPublishAck(response)) {
        const decoded = decodePublishResponse(response);
        return pipeline.fail(new Error(`PublishAsync refused a message: ${decoded.asyncError?.code} ${decoded.asyncError?.message}`));
      }
      last.response = response;
      pipeline.ack();
    });
    const ended = new Promise<void>((resolve) => call.on('status', () => resolve()));
    call.on('error', (error: Error) => pipeline.fail(new Error(`PublishAsync stream failed (${pipeline.progress()}): ${error.message}`)));
    try {
      const elapsedNs = await pipeline.run();
      const offset = decodePublishResponse(last.response).ack?.offset ?? -1n;
      if (offset < BigInt(total) || offset >= BigInt(total + warmUps)) {
        throw new Error(`PublishAsync: last ack has offset ${offset}, expected ${total}..${total + warmUps - 1}`);
      }
      call.end();
      await withDeadline(ended, 10_000, 'PublishAsync to end after the client half-closed').catch(() => call.cancel());
      return elapsedNs;
    } finally {
      call.cancel();
    }
  } finally {
    client.close();
  }
}

function publishAsyncCase(id: 'lb-publish-async' | 'lb-publish-async-grpcjs', title: string, client: 'http2' | 'grpc-js'): BenchCase {
  return {
    id,
    title,
    async run(ctx, size, run) {
      const total = ctx.config.publishCount;
      const name = `bench-${id}-${size}-r${run}`;
      const subject = `bench.${id}.${size}.r${run}`;
      const request = encodePublishRequest({ stream: name, value: payload(size), ackPolicy: AckPolicy.LEADER, correlationId: 'bench', expectedOffset: -1 });
      let nc: NatsConnection | undefined;
      await createStream(ctx.control, name, subject);
      try {
        nc = await connectNats(ctx.natsUrl, 'bench-lb-warm-up');
        const warmUps = await warmUpPartition(nc, subject);
        const elapsedNs = client === 'http2' ? await publishLean(ctx, name, request, total, warmUps) : await publishGrpcJs(ctx, request, total, warmUps);
        return { messages: total, seconds: Number(elapsedNs) / 1e9 };
      } finally {
        await closeNats(nc);
        await deleteStream(ctx.control, name, ctx.progress);
      }
    },
  };
}

/**
 * liftbridge-ts (b): gRPC PublishAsync on one bidi stream, one pre-encoded PublishRequest written
 * `total` times with up to `window` unacknowledged, counted by the PublishResponses carrying an ack,
 * through the lean HTTP/2 client: what the server does (docs/benchmarks.md "Clients").
 */
export const liftbridgePublishAsyncCase: BenchCase = publishAsyncCase('lb-publish-async', 'liftbridge gRPC PublishAsync', 'http2');

/**
 * The same load through grpc-js: what any grpc-js client can get, and the baseline of the client
 * AsyncPublisher (which is built on grpc-js), so that their ratio is the library's own cost.
 */
export const liftbridgePublishAsyncGrpcJsCase: BenchCase = publishAsyncCase('lb-publish-async-grpcjs', 'liftbridge gRPC PublishAsync (grpc-js)', 'grpc-js');
