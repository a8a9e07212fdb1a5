import { createMessageCodec, lazy, loadProtoRoot, type MessageCodec, type ProtoInit } from './proto-schema';

/** Codecs for the standard gRPC health service (proto/health.proto, package grpc.health.v1). */

/** `HealthCheckResponse.ServingStatus`. */
export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  /** Used only by Watch, for a service name the server does not know. */
  SERVICE_UNKNOWN = 3,
}

export interface HealthCheckRequest {
  /** Empty = the server as a whole; Liftbridge reports "proto.API" (docs/protocol.md "Service"). */
  readonly service: string;
}

export interface HealthCheckResponse {
  readonly status: ServingStatus;
}

const healthCodecs = lazy(() => {
  const root = loadProtoRoot('health.proto');
  return {
    request: createMessageCodec<HealthCheckRequest>(root, 'grpc.health.v1.HealthCheckRequest'),
    response: createMessageCodec<HealthCheckResponse>(root, 'grpc.health.v1.HealthCheckResponse'),
  } as const satisfies Record<string, MessageCodec<unknown>>;
});

export const encodeHealthCheckRequest = (value: ProtoInit<HealthCheckRequest>): Buffer => healthCodecs().request.encode(value);
export const decodeHealthCheckRequest = (bytes: Uint8Array): HealthCheckRequest => healthCodecs().request.decode(bytes);
export const encodeHealthCheckResponse = (value: ProtoInit<HealthCheckResponse>): Buffer => healthCodecs().response.encode(value);
export const decodeHealthCheckResponse = (bytes: Uint8Array): HealthCheckResponse => healthCodecs().response.decode(bytes);
