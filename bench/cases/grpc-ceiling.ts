import { StartPosition } from '../../src/protocol/api-proto';
import { ceilingRequestStream } from '../support/messages';
import { connectRawClient } from '../support/raw-api-client';
import { countSubscribe } from '../support/subscribe-counter';
import type { BenchCase } from '../types';

/**
 * Baseline 3: the gRPC stack's ceiling. bench/grpc-ceiling-server.ts (another process) streams one
 * pre-encoded Message `catchupCount` times with no storage behind it; the same non-decoding client
 * as the catch-up case counts them.
 */
export const grpcCeilingCase: BenchCase = {
  id: 'grpc-ceiling',
  title: 'gRPC ceiling (no storage)',
  async run(ctx, size) {
    const total = ctx.config.catchupCount;
    const client = await connectRawClient(ctx.ceilingAddress);
    try {
      const result = await countSubscribe(
        client,
        { stream: ceilingRequestStream(size, total), startPosition: StartPosition.EARLIEST },
        total,
        'gRPC ceiling Subscribe',
      );
      return { messages: result.messages, seconds: Number(result.elapsedNs) / 1e9, wireBytesPerMessage: result.wireBytes / result.messages };
    } finally {
      client.close();
    }
  },
};
