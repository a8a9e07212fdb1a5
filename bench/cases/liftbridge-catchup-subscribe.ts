import type { NatsConnection } from 'nats';
import { StartPosition } from '../../src/protocol/api-proto';
import { publishEnveloped, warmUpPartition } from '../support/liftbridge-nats';
import { catchupStreamName, catchupSubject, payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { createStream, deleteStream } from '../support/streams';
import { countSubscribeHttp2 } from '../support/http2-subscribe';
import { timedCpu } from '../support/timed-cpu';
import type { BenchCase } from '../types';

/**
 * liftbridge-ts (d): catch-up Subscribe from EARLIEST over everything in a stream pre-filled
 * (untimed) through the acked NATS path, counted by the non-decoding client.
 */
export const liftbridgeCatchupSubscribeCase: BenchCase = {
  id: 'lb-catchup-subscribe',
  title: 'liftbridge catch-up Subscribe',
  async run(ctx, size, run) {
    const name = catchupStreamName(size, run);
    const subject = catchupSubject(size, run);
    let nc: NatsConnection | undefined;
    await createStream(ctx.control, name, subject);
    try {
      nc = await connectNats(ctx.natsUrl, 'bench-lb-prefill');
      await warmUpPartition(nc, subject);
      ctx.progress(`    pre-filling ${name} with ${ctx.config.catchupCount} messages (untimed)`);
      const prefill = await publishEnveloped(ctx.natsUrl, subject, payload(size), ctx.config.catchupCount, ctx.config.window, 'catch-up pre-fill');
      const expected = Number(prefill.lastOffset) + 1;
      timedCpu.take(); // the pre-fill is not the case's client cost
      const result = await countSubscribeHttp2(ctx.liftbridgeAddress, { stream: name, startPosition: StartPosition.EARLIEST }, expected, 'catch-up Subscribe');
      return { messages: result.messages, seconds: Number(result.elapsedNs) / 1e9, wireBytesPerMessage: result.wireBytes / result.messages };
    } finally {
      await closeNats(nc);
      await deleteStream(ctx.control, name, ctx.progress);
    }
  },
};
