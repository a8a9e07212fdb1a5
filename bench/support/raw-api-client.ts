import * as grpc from '@grpc/grpc-js';
import { API_SERVICE_NAME, apiServiceDefinition } from '../../src/protocol/api-service-definition';
import type { SubscribeRequest } from '../../src/protocol/api-proto';
import type { ProtoInit } from '../../src/protocol/proto-schema';
import { withDeadline } from './deadline';

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * A `proto.API` client for load generation that neither encodes requests nor decodes responses on
 * the hot paths: Publish and PublishAsync take pre-encoded `PublishRequest` bytes, and Subscribe,
 * Publish and PublishAsync hand back the raw response bytes. So the figures are the server's, not
 * protobufjs's in this process.
 */
const rawDefinition: grpc.ServiceDefinition = {
  Subscribe: { ...apiServiceDefinition.Subscribe!, responseDeserialize: identity },
  Publish: { ...apiServiceDefinition.Publish!, requestSerialize: identity, responseDeserialize: identity },
  PublishAsync: { ...apiServiceDefinition.PublishAsync!, requestSerialize: identity, responseDeserialize: identity },
};

export interface RawApiClient extends grpc.Client {
  subscribe(request: ProtoInit<SubscribeRequest>, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<Buffer>;
  publish(request: Buffer, options: Partial<grpc.CallOptions>, callback: grpc.requestCallback<Buffer>): grpc.ClientUnaryCall;
  publishAsync(options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<Buffer, Buffer>;
}

const RawConstructor = grpc.makeGenericClientConstructor(rawDefinition, API_SERVICE_NAME);

/** A connected raw client (the channel is up before any timing starts). */
export async function connectRawClient(address: string, credentials = grpc.credentials.createInsecure()): Promise<RawApiClient> {
  const client = new RawConstructor(address, credentials) as unknown as RawApiClient;
  const ready = new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
  );
  try {
    await withDeadline(ready, 11_000, `gRPC channel to ${address}`);
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/**
 * True when raw `PublishResponse` bytes carry an ack and no asyncError: field 1 (ack, tag 0x0a)
 * comes first and is non-empty, and no field 2 (asyncError, tag 0x12) follows it. Refusals carry
 * an empty ack plus asyncError (docs/protocol.md "PublishAsync").
 */
export function isPublishAck(bytes: Buffer): boolean {
  return isPublishAckAt(bytes, 0, bytes.length);
}

/** `isPublishAck` of the response in `bytes[start, end)`, read in place. */
export function isPublishAckAt(bytes: Buffer, start: number, end: number): boolean {
  if (end - start < 2 || bytes[start] !== 0x0a) return false;
  let length = 0;
  let shift = 0;
  let pos = start + 1;
  for (;;) {
    if (pos >= end) return false;
    const byte = bytes[pos++]!;
    length |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  if (length === 0) return false;
  const next = pos + length;
  return next >= end || bytes[next] !== 0x12;
}
