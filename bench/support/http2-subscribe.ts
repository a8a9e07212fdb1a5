import * as http2 from 'node:http2';
import { encodeSubscribeRequest, type SubscribeRequest } from '../../src/protocol/api-proto';
import { API_SERVICE_NAME } from '../../src/protocol/api-service-definition';
import type { ProtoInit } from '../../src/protocol/proto-schema';
import { STALL_MS } from './ack-window';
import { DeadlineError } from './deadline';
import { GrpcFrameCounter } from './grpc-frame-counter';
import { grpcFramed } from './http2-unary';
import { timedCpu } from './timed-cpu';

export interface SubscribeCount {
  readonly elapsedNs: bigint;
  readonly messages: number;
  /** Sum of the raw `Message` sizes received (protobuf bytes, without gRPC framing). */
  readonly wireBytes: number;
}

/**
 * The leanest Subscribe reader a case can have (docs/benchmarks.md "Clients"): one HTTP/2 stream
 * through node:http2, the gRPC framing counted per DATA chunk (grpc-frame-counter.ts), no per-message
 * callback, copy or decode; grpc-js spends 3-5 µs of client CPU per streamed message, a third of
 * a core or more at the rates measured. Counts until `expected` messages arrived after Liftbridge's
 * empty handshake, then cancels. Fails on an error status, an early end, or `stallMs` without data.
 */
export function countSubscribeHttp2(address: string, request: ProtoInit<SubscribeRequest>, expected: number, what: string, stallMs = STALL_MS): Promise<SubscribeCount> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    const counter = new GrpcFrameCounter();
    const frame = grpcFramed(encodeSubscribeRequest(request));
    let settled = false;
    let lastProgressAt = Date.now();
    let startedAt = 0n;
    const counted = (): number => Math.max(0, counter.messages - 1);
    const progress = (): string => `${counted()} of ${expected} messages`;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      const elapsedNs = process.hrtime.bigint() - startedAt;
      timedCpu.stop();
      clearInterval(watchdog);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
      if (error) return reject(error);
      resolve({ elapsedNs, messages: counted(), wireBytes: counter.messageBytes });
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgressAt > stallMs) settle(new DeadlineError(`${what}: no message for ${stallMs} ms (${progress()})`));
    }, 250);
    session.on('error', (error) => settle(new Error(`${what}: HTTP/2 session failed (${progress()}): ${error.message}`)));
    timedCpu.start();
    startedAt = process.hrtime.bigint();
    const stream = session.request({
      ':method': 'POST',
      ':path': `/${API_SERVICE_NAME}/Subscribe`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.end(frame);
    stream.on('data', (chunk: Buffer) => {
      counter.feed(chunk);
      lastProgressAt = Date.now();
      if (counter.firstLengths[0] !== undefined && counter.firstLengths[0] !== 0) {
        return settle(new Error(`${what}: the first message is not the empty handshake (${counter.firstLengths[0]} bytes)`));
      }
      if (counted() >= expected) settle(null);
    });
    const statusOf = (headers: http2.IncomingHttpHeaders): string | undefined => headers['grpc-status'] as string | undefined;
    stream.on('response', (headers) => {
      const status = statusOf(headers);
      if (status !== undefined && status !== '0') settle(new Error(`${what}: status ${status} ${String(headers['grpc-message'] ?? '')}`));
    });
    stream.on('trailers', (trailers) => settle(new Error(`${what}: stream ended early with status ${statusOf(trailers)} (${progress()})`)));
    stream.on('error', (error) => settle(new Error(`${what}: stream failed (${progress()}): ${error.message}`)));
    stream.on('end', () => settle(new Error(`${what}: stream ended early (${progress()})`)));
  });
}
