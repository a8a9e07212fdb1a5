/**
 * Baseline 3, the gRPC stack's ceiling: a grpc-js server with the real `proto.API` definition whose
 * Subscribe streams one pre-encoded Liftbridge `Message` N times (after the empty handshake), with
 * no storage behind it. Run as a child process by bench/run.ts:
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
import { encodeRealisticMessage, parseCeilingRequestStream } from './support/messages';

const HANDSHAKE = Buffer.alloc(0);
const messages = new Map<number, Buffer>();

function messageOf(valueBytes: number): Buffer {
  let message = messages.get(valueBytes);
  if (!message) messages.set(valueBytes, (message = encodeRealisticMessage(valueBytes)));
  return message;
}

function subscribe(call: grpc.ServerWritableStream<SubscribeRequest, SubscribeResponseFrame>): void {
  const spec = parseCeilingRequestStream(call.request.stream);
  if (!spec) {
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `bad ceiling stream name ${call.request.stream}` });
    return;
  }
  const message = messageOf(spec.valueBytes);
  let cancelled = false;
  call.on('cancelled', () => (cancelled = true));
  let sent = 0;
  const pump = (): void => {
    while (sent < spec.count) {
      if (cancelled) return;
      sent++;
      if (!call.write(message)) {
        call.once('drain', pump);
        return;
      }
    }
    call.end();
  };
  call.write(HANDSHAKE);
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
