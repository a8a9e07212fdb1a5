import { StartPosition } from '../../src/protocol/api-proto';
import { ceilingRequestStream } from '../support/messages';
import { countSubscribeHttp2 } from '../support/http2-subscribe';
import type { BenchCase } from '../types';

/**
 * Baseline 3: the gRPC stack's ceiling. bench/grpc-ceiling-server.ts (another process) streams one
 * pre-encoded Message `catchupCount` times with no storage behind it; the same lean reader as the
 * catch-up case (support/http2-subscribe.ts) counts them.
 */
export const grpcCeilingCase: BenchCase = {
  id: 'grpc-ceiling',
  title: 'gRPC ceiling (no storage)',
  async run(ctx, size) {
    const total = ctx.config.catchupCount;
    const result = await countSubscribeHttp2(
      ctx.ceilingAddress,
      { stream: ceilingRequestStream(size, total), startPosition: StartPosition.EARLIEST },
      total,
      'gRPC ceiling Subscribe',
    );
    return { messages: result.messages, seconds: Number(result.elapsedNs) / 1e9, wireBytesPerMessage: result.wireBytes / result.messages };
  },
};
