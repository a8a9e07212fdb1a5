import * as grpc from '@grpc/grpc-js';
import * as health from '../../../protocol/health-proto';
import type { ProtoInit } from '../../../protocol/proto-schema';

/**
 * The standard `grpc.health.v1.Health` service (Check, Watch) as a grpc-js ServiceDefinition over
 * our codecs. Liftbridge registers it on the API server and reports "proto.API" SERVING once the
 * server has started, NOT_SERVING on shutdown (docs/protocol.md "Service").
 */

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

const healthCodecs = {
  requestSerialize: health.encodeHealthCheckRequest,
  requestDeserialize: health.decodeHealthCheckRequest,
  responseSerialize: health.encodeHealthCheckResponse,
  responseDeserialize: health.decodeHealthCheckResponse,
};

export const healthServiceDefinition: grpc.ServiceDefinition = Object.freeze({
  Check: {
    path: `/${HEALTH_SERVICE_NAME}/Check`,
    requestStream: false,
    responseStream: false,
    ...healthCodecs,
    originalName: 'check',
  },
  Watch: {
    path: `/${HEALTH_SERVICE_NAME}/Watch`,
    requestStream: false,
    responseStream: true,
    ...healthCodecs,
    originalName: 'watch',
  },
});

export type HealthServiceHandlers = {
  check: grpc.handleUnaryCall<health.HealthCheckRequest, ProtoInit<health.HealthCheckResponse>>;
  watch: grpc.handleServerStreamingCall<health.HealthCheckRequest, ProtoInit<health.HealthCheckResponse>>;
};

export function addHealthService(server: grpc.Server, handlers: HealthServiceHandlers): void {
  server.addService(healthServiceDefinition, handlers as grpc.UntypedServiceImplementation);
}

/** A typed health client for tests and tools. */
export interface HealthClient extends grpc.Client {
  check(
    request: ProtoInit<health.HealthCheckRequest>,
    callback: grpc.requestCallback<health.HealthCheckResponse>,
  ): grpc.ClientUnaryCall;
  check(
    request: ProtoInit<health.HealthCheckRequest>,
    options: Partial<grpc.CallOptions>,
    callback: grpc.requestCallback<health.HealthCheckResponse>,
  ): grpc.ClientUnaryCall;
  watch(
    request: ProtoInit<health.HealthCheckRequest>,
    options?: Partial<grpc.CallOptions>,
  ): grpc.ClientReadableStream<health.HealthCheckResponse>;
}

export function createHealthClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
): HealthClient {
  const Constructor = grpc.makeGenericClientConstructor(healthServiceDefinition, HEALTH_SERVICE_NAME);
  return new Constructor(address, credentials, options) as unknown as HealthClient;
}
