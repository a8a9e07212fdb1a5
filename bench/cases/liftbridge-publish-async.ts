import type { NatsConnection } from 'nats';
import { AckPolicy, decodePublishResponse, encodePublishRequest } from '../../src/protocol/api-proto';
import { AckWindow } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { connectRawClient, isPublishAck } from '../support/raw-api-client';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

/**
 * liftbridge-ts (b): gRPC PublishAsync on one bidi stream, one pre-encoded PublishRequest written
 * `total` times with up to `window` unacknowledged, counted by the PublishResponses carrying an ack.
 */
export const liftbridgePublishAsyncCase: BenchCase = {
  id: 'lb-publish-async',
  title: 'liftbridge gRPC PublishAsync',
  async run(ctx, size, run) {
    const total = ctx.config.publishCount;
    const name = `bench-async-${size}-r${run}`;
    const subject = `bench.async.${size}.r${run}`;
    const request = encodePublishRequest({
      stream: name,
      value: payload(size),
      ackPolicy: AckPolicy.LEADER,
      correlationId: 'bench',
      expectedOffset: -1,
    });
    let nc: NatsConnection | undefined;
    await createStream(ctx.control, name, subject);
    try {
      nc = await connectNats(ctx.natsUrl, 'bench-lb-warm-up');
      const warmUps = await warmUpPartition(nc, subject);
      const client = await connectRawClient(ctx.liftbridgeAddress);
      try {
        const call = client.publishAsync();
        const last: { response: Buffer } = { response: Buffer.alloc(0) };
        const pipeline = new AckWindow('liftbridge PublishAsync', total, ctx.config.window, () => call.write(request));
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
          return { messages: total, seconds: Number(elapsedNs) / 1e9 };
        } finally {
          call.cancel();
        }
      } finally {
        client.close();
      }
    } finally {
      await closeNats(nc);
      await deleteStream(ctx.control, name, ctx.progress);
    }
  },
};
