import type * as grpc from '@grpc/grpc-js';
import type { UnaryClientMethod } from '../protocol/api-service-definition';
import type { ProtoInit } from '../protocol/proto-schema';

/** Calls a unary method of `client` with an optional deadline, as a promise. */
export function callUnary<Req, Res>(
  client: grpc.Client,
  method: UnaryClientMethod<Req, Res>,
  request: ProtoInit<Req>,
  timeoutMs?: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const options: Partial<grpc.CallOptions> = timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
    const invoke = method as (
      this: grpc.Client,
      request: ProtoInit<Req>,
      options: Partial<grpc.CallOptions>,
      callback: grpc.requestCallback<Res>,
    ) => grpc.ClientUnaryCall;
    invoke.call(client, request, options, (error: grpc.ServiceError | null, response?: Res) =>
      error ? reject(error) : resolve(response as Res),
    );
  });
}
