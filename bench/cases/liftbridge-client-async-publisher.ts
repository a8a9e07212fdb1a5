import type { NatsConnection } from 'nats';
import { LiftbridgeClient } from '../../src/client';
import { STALL_MS } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { warmUpPartition } from '../support/liftbridge-nats';
import { payload } from '../support/messages';
import { closeNats, connectNats } from '../support/nats-connections';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';
import { timedCpu } from '../support/timed-cpu';

/**
 * liftbridge-ts client (src/client): `client.asyncPublisher({ maxInFlight })` with maxInFlight =
 * `config.clientWindow` (1024, the client's default), the same message count, size and ackPolicy
 * (LEADER) as the PublishAsync case. `send()` is awaited for every message (it waits only when the
 * window is full: the client's own backpressure); the run is timed from the first send to the last
 * ack and counted by acks. Unlike the raw PublishAsync case, the client builds and encodes every
 * request itself (correlation id, routing, one ack promise and timer per message) — that cost is
 * what this case measures against the raw figure.
 */
export const liftbridgeClientAsyncPublisherCase: BenchCase = {
  id: 'lb-client-async-publisher',
  title: 'liftbridge client AsyncPublisher',
  async run(ctx, size, run) {
    const total = ctx.config.publishCount;
    const name = `bench-client-async-${size}-r${run}`;
    const subject = `bench.clientasync.${size}.r${run}`;
    const value = payload(size);
    let nc: NatsConnection | undefined;
    await createStream(ctx.control, name, subject);
    try {
      nc = await connectNats(ctx.natsUrl, 'bench-lb-warm-up');
      const warmUps = await warmUpPartition(nc, subject);
      const client = await LiftbridgeClient.connect({ servers: [ctx.liftbridgeAddress] });
      try {
        // Resolve the partition leader before timing (the first send would otherwise fetch metadata).
        await client.fetchMetadata([name]);
        const publisher = client.asyncPublisher({ maxInFlight: ctx.config.clientWindow, ackWaitTimeMs: STALL_MS });
        let acked = 0;
        let sent = 0;
        let lastOffset = -1n;
        let failure: Error | undefined;
        let finish: (elapsedNs: bigint) => void = () => undefined;
        let abort: (error: Error) => void = () => undefined;
        const done = new Promise<bigint>((resolve, reject) => {
          finish = resolve;
          abort = reject;
        });
        const progress = (): string => `${acked} of ${total} acked, ${sent} sent, maxInFlight ${ctx.config.clientWindow}`;
        timedCpu.start();
        const startedAt = process.hrtime.bigint();
        try {
          for (; sent < total && !failure; sent++) {
            const ticket = await publisher.send(name, value);
            ticket.ack.then(
              (ack) => {
                acked++;
                if (ack && ack.offset > lastOffset) lastOffset = ack.offset;
                if (acked !== total) return;
                timedCpu.stop();
                finish(process.hrtime.bigint() - startedAt);
              },
              (error: Error) => {
                failure ??= new Error(`client AsyncPublisher: a message was not acked (${progress()}): ${error.message}`);
                abort(failure);
              },
            );
          }
          const elapsedNs = await withDeadline(done, STALL_MS * 2, 'the client AsyncPublisher acks', progress);
          if (lastOffset < BigInt(total) || lastOffset >= BigInt(total + warmUps)) {
            throw new Error(`client AsyncPublisher: last ack has offset ${lastOffset}, expected ${total}..${total + warmUps - 1}`);
          }
          return { messages: total, seconds: Number(elapsedNs) / 1e9 };
        } finally {
          done.catch(() => undefined);
          await publisher.close(failure ? 1_000 : STALL_MS);
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
