import * as http2 from 'node:http2';
import { API_SERVICE_NAME } from '../../src/protocol/api-service-definition';
import { AckWindow } from './ack-window';
import { GrpcFrameCounter } from './grpc-frame-counter';
import { grpcFramed } from './http2-unary';

export interface PublishAsyncRun {
  readonly elapsedNs: bigint;
  /** Responses cut by a DATA chunk boundary, counted but not checked (the others were all checked). */
  readonly unchecked: number;
}

/**
 * The leanest PublishAsync client a case can have (docs/benchmarks.md "Clients"): one bidi stream
 * through node:http2, `window` copies of the framed request built once, the requests due after a
 * DATA chunk written in one `stream.write`, the responses counted per chunk
 * (grpc-frame-counter.ts) and each checked in place with `isAck` (a refusal fails the run). grpc-js
 * spends 16-24 µs of client CPU per PublishAsync message on this machine, 0.5-0.8 cores.
 */
export function publishAsyncHttp2(
  address: string,
  request: Uint8Array,
  total: number,
  window: number,
  what: string,
  isAck: (chunk: Buffer, start: number, end: number) => boolean,
): Promise<PublishAsyncRun> {
  const framed = grpcFramed(request);
  const frames = Buffer.allocUnsafe(framed.length * window);
  for (let i = 0; i < window; i++) framed.copy(frames, i * framed.length);
  const session = http2.connect(`http://${address}`);
  return new Promise<PublishAsyncRun>((resolve, reject) => {
    let refused: Error | null = null;
    const counter = new GrpcFrameCounter(1, (chunk, start, end) => {
      if (refused === null && !isAck(chunk, start, end)) refused = new Error(`${what}: a response carries no ack (a refusal)`);
    });
    let due = 0;
    const pipeline = new AckWindow(what, total, window, () => due++);
    let stream: http2.ClientHttp2Stream | null = null;
    const send = (): void => {
      while (due > 0 && stream !== null) {
        const count = Math.min(due, window);
        stream.write(count === window ? frames : frames.subarray(0, count * framed.length));
        due -= count;
      }
    };
    const finish = (error: Error | null, elapsedNs = 0n): void => {
      stream?.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
      if (error) reject(error);
      else resolve({ elapsedNs, unchecked: counter.split });
    };
    let running = false;
    session.on('error', (error) => {
      const failure = new Error(`${what}: HTTP/2 session failed (${pipeline.progress()}): ${error.message}`);
      if (running) pipeline.fail(failure);
      else finish(failure);
    });
    session.once('connect', () => {
      running = true;
      stream = session.request({ ':method': 'POST', ':path': `/${API_SERVICE_NAME}/PublishAsync`, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('data', (chunk: Buffer) => {
        const before = counter.messages;
        counter.feed(chunk);
        if (refused !== null) return pipeline.fail(refused);
        if (counter.messages === before) return;
        pipeline.ack(counter.messages - before);
        send();
      });
      stream.on('trailers', (trailers) => pipeline.fail(new Error(`${what}: stream ended with status ${String(trailers['grpc-status'])} ${String(trailers['grpc-message'] ?? '')} (${pipeline.progress()})`)));
      stream.on('error', (error) => pipeline.fail(new Error(`${what}: stream failed (${pipeline.progress()}): ${error.message}`)));
      pipeline.run().then(
        (elapsedNs) => finish(null, elapsedNs),
        (error: Error) => finish(error),
      );
      send();
    });
  });
}
