/**
 * Baseline 3, the gRPC stack's ceiling: a grpc-js server with the real `proto.API` definition whose
 * Subscribe streams one pre-encoded Liftbridge `Message` N times (after the empty handshake), with
 * no storage behind it. It writes the way the liftbridge-ts server does (src/adapters/inbound/grpc/
 * subscribe-call.ts): length-prefixed messages many per HTTP/2 write through the raw frame writer,
 * batches of about the server's read size (1 MiB), waiting for 'drain' beyond 2 MiB queued. Until
 * 2026-12-08 it wrote one message per grpc-js `call.write`, a path the server does not take, and
 * the server streamed 1.8-3.3x faster than this "ceiling" (docs/benchmarks.md). Run as a child
 * process by bench/run.ts:
 *
 *   node -r ts-node/register/transpile-only bench/grpc-ceiling-server.ts
 *
 * It prints `LISTENING <port>` on stdout once bound to 127.0.0.1, and exits when its stdin closes
 * (the parent went away) or on SIGTERM. The SubscribeRequest names what to send:
 * stream = `ceiling:<valueBytes>:<count>` (see ceilingRequestStream).
 */
import * as grpc from '@grpc/grpc-js';
import type { SubscribeRequest } from '../src/protocol/api-proto';
import { addApiService, type SubscribeResponseFrame } from '../src/protocol/api-service-definition';
import { GRPC_FRAME_PREFIX_BYTES, rawFrameWriter, writeGrpcFramePrefix } from '../src/protocol/grpc-raw-frames';
import { encodeRealisticMessage, parseCeilingRequestStream } from './support/messages';

/** About what the server reads from a log per step (server-settings-from-config.ts, SUBSCRIBE_READ_BYTES). */
const BATCH_BYTES = 1024 * 1024;
/** What the server lets a subscription queue before it waits for 'drain' (subscribe-call.ts). */
const QUEUED_BYTES_MAX = 2 * 1024 * 1024;
const batches = new Map<number, { frames: Buffer; count: number; frameBytes: number }>();

/** One buffer of as many framed copies of the message as fit in BATCH_BYTES (at least one), built once per size. */
function batchOf(valueBytes: number): { frames: Buffer; count: number; frameBytes: number } {
  let batch = batches.get(valueBytes);
  if (batch) return batch;
  const message = encodeRealisticMessage(valueBytes);
  const frameBytes = GRPC_FRAME_PREFIX_BYTES + message.length;
  const count = Math.max(1, Math.floor(BATCH_BYTES / frameBytes));
  const frames = Buffer.allocUnsafe(count * frameBytes);
  for (let i = 0; i < count; i++) message.copy(frames, writeGrpcFramePrefix(frames, i * frameBytes, message.length));
  batches.set(valueBytes, (batch = { frames, count, frameBytes }));
  return batch;
}

function subscribe(call: grpc.ServerWritableStream<SubscribeRequest, SubscribeResponseFrame>): void {
  const spec = parseCeilingRequestStream(call.request.stream);
  if (!spec) {
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `bad ceiling stream name ${call.request.stream}` });
    return;
  }
  const raw = rawFrameWriter(call);
  if (!raw) {
    call.emit('error', { code: grpc.status.INTERNAL, details: 'grpc-js internals are not as the raw frame writer expects' });
    return;
  }
  const batch = batchOf(spec.valueBytes);
  const abort = new AbortController();
  call.on('cancelled', () => abort.abort());
  let sent = 0;
  const pump = (): void => {
    while (sent < spec.count) {
      if (abort.signal.aborted) return;
      const count = Math.min(batch.count, spec.count - sent);
      raw.write(count === batch.count ? batch.frames : batch.frames.subarray(0, count * batch.frameBytes));
      sent += count;
      if (raw.bufferedBytes > QUEUED_BYTES_MAX) {
        void raw.drained(abort.signal).then(pump);
        return;
      }
    }
    call.end();
  };
  raw.write(Buffer.from([0, 0, 0, 0, 0])); // the empty handshake message, framed
  pump();
}

function main(): void {
  const server = new grpc.Server();
  addApiService(server, { subscribe });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      process.stderr.write(`grpc-ceiling-server: bind failed: ${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`LISTENING ${port}\n`);
  });
  const shutdown = (): void => {
    server.forceShutdown();
    process.exit(0);
  };
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
