import type { ClientReadableStream } from '@grpc/grpc-js';
import type { SubscribeRequest } from '../../src/protocol/api-proto';
import type { ProtoInit } from '../../src/protocol/proto-schema';
import { STALL_MS } from './ack-window';
import { DeadlineError } from './deadline';
import type { RawApiClient } from './raw-api-client';
import { timedCpu } from './timed-cpu';

export interface SubscribeCount {
  readonly elapsedNs: bigint;
  readonly messages: number;
  /** Sum of the raw `Message` sizes received (protobuf bytes, without gRPC framing). */
  readonly wireBytes: number;
}

/**
 * Subscribes with the non-decoding client and counts messages until `expected` arrived (the empty
 * handshake that opens every Liftbridge subscription is not counted), then cancels. The time runs
 * from the call to the last message. Fails on an error status, an early end, or `stallMs` without
 * a message.
 */
export function countSubscribe(
  client: RawApiClient,
  request: ProtoInit<SubscribeRequest>,
  expected: number,
  what: string,
  stallMs = STALL_MS,
): Promise<SubscribeCount> {
  return new Promise((resolve, reject) => {
    let handshake = false;
    let messages = 0;
    let wireBytes = 0;
    let settled = false;
    let lastProgressAt = Date.now();
    const progress = (): string => `${messages} of ${expected} messages, handshake ${handshake ? 'seen' : 'not seen'}`;
    const settle = (error: Error | null, result?: SubscribeCount): void => {
      if (settled) return;
      settled = true;
      timedCpu.stop();
      clearInterval(watchdog);
      call.cancel();
      if (error) reject(error);
      else resolve(result!);
    };
    timedCpu.start();
    const startedAt = process.hrtime.bigint();
    const call: ClientReadableStream<Buffer> = client.subscribe(request);
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgressAt > stallMs) settle(new DeadlineError(`${what}: no message for ${stallMs} ms (${progress()})`));
    }, 250);
    call.on('data', (message: Buffer) => {
      if (settled) return;
      lastProgressAt = Date.now();
      if (!handshake) {
        handshake = true;
        if (message.length !== 0) settle(new Error(`${what}: the first message is not the empty handshake (${message.length} bytes)`));
        return;
      }
      messages++;
      wireBytes += message.length;
      if (messages === expected) settle(null, { elapsedNs: process.hrtime.bigint() - startedAt, messages, wireBytes });
    });
    call.on('error', (error: Error) => settle(new Error(`${what}: stream failed (${progress()}): ${error.message}`)));
    call.on('end', () => settle(new Error(`${what}: stream ended early (${progress()})`)));
  });
}
