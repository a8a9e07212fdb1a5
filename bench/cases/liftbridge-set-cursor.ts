import * as grpc from '@grpc/grpc-js';
import { createApiClient } from '../../src/protocol/api-service-definition';
import { STALL_MS } from '../support/ack-window';
import { withDeadline } from '../support/deadline';
import { CALL_DEADLINE_MS, callSequentially } from '../support/sequential-calls';
import { quantile } from '../support/stats';
import { createStream, deleteStream } from '../support/streams';
import type { BenchCase } from '../types';

const CURSORS_READY_MS = 30_000;

/** Waits until the controller created `__cursors` (the bench server runs with one cursors partition). */
async function cursorsReady(client: ReturnType<typeof createApiClient>): Promise<void> {
  const deadline = Date.now() + CURSORS_READY_MS;
  for (;;) {
    const found = await new Promise<boolean>((resolve) =>
      client.fetchMetadata({ streams: ['__cursors'], groups: [] }, { deadline: Date.now() + 2000 }, (error, response) =>
        resolve(!error && response!.streamMetadata.some((s) => s.name === '__cursors' && s.error === 0 && s.partitions[0]?.leader !== '')),
      ),
    );
    if (found) return;
    if (Date.now() > deadline) throw new Error('__cursors was not created (cursors.stream.partitions on the bench server?)');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SetCursor calls one after the other, each with a deadline (offsets 0, 1, ...). */
function setSequentially(client: ReturnType<typeof createApiClient>, stream: string, total: number): Promise<{ elapsedNs: bigint; latenciesMs: Float64Array }> {
  return callSequentially(total, (i, done) =>
    client.setCursor({ cursorId: 'bench', stream, partition: 0, offset: BigInt(i) }, { deadline: Date.now() + CALL_DEADLINE_MS }, (error) =>
      done(error ? `SetCursor failed: ${grpc.status[error.code]} ${error.details}` : null),
    ),
  );
}

/**
 * SetCursor, one at a time (docs/consumers.md "Cursors"): each writes a record with AckPolicy ALL
 * to `__cursors` through the publish path; compared with unary Publish ALL on the same server. The
 * message size does not apply (a cursor record is ~40 bytes); both sizes run for the table.
 */
export const liftbridgeSetCursorCase: BenchCase = {
  id: 'lb-set-cursor',
  title: 'liftbridge SetCursor (1 at a time)',
  async run(ctx, size, run) {
    const total = ctx.config.unaryCount;
    const name = `bench-cursor-${size}-r${run}`;
    await createStream(ctx.control, name, `bench.cursor.${size}.r${run}`);
    const client = createApiClient(ctx.liftbridgeAddress, grpc.credentials.createInsecure());
    try {
      await cursorsReady(client);
      // One call first: the __cursors leader's log and the channel are warm before timing starts.
      await setSequentially(client, name, 1);
      const { elapsedNs, latenciesMs } = await withDeadline(setSequentially(client, name, total), STALL_MS + total * CALL_DEADLINE_MS, 'SetCursor run');
      latenciesMs.sort();
      return { messages: total, seconds: Number(elapsedNs) / 1e9, p50Ms: quantile(latenciesMs, 0.5), p99Ms: quantile(latenciesMs, 0.99) };
    } finally {
      client.close();
      await deleteStream(ctx.control, name, ctx.progress);
    }
  },
};
