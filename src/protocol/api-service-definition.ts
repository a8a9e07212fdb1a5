import * as grpc from '@grpc/grpc-js';
import * as api from './api-proto';
import type { ProtoInit } from './proto-schema';
import { decodePublishRequest, encodePublishRequest } from './publish-request-codec';
import { decodePublishResponse, encodePublishResponse } from './publish-response-codec';

/**
 * The `proto.API` service (docs/protocol.md "RPCs") as a grpc-js ServiceDefinition whose (de)serializers are our
 * codecs, so neither side needs @grpc/proto-loader. Keys are the proto method names and
 * `originalName` the camelCase alias, as proto-loader produces them: `server.addService` accepts
 * handlers under either name, and clients made by `makeGenericClientConstructor` get both.
 *
 * Deserialization failures throw ProtobufDecodeError; grpc-js then answers INTERNAL
 * ("Error deserializing request") without calling the handler (docs/reliability.md "Bad inputs", A17).
 */

/** One frame of the Subscribe stream: pre-encoded `proto.Message` bytes, or a Message to encode. */
export type SubscribeResponseFrame = Uint8Array | ProtoInit<api.Message>;

function method<Req, Res>(
  name: string,
  kind: { readonly requestStream: boolean; readonly responseStream: boolean },
  request: { readonly encode: (value: ProtoInit<Req>) => Buffer; readonly decode: (bytes: Uint8Array) => Req },
  response: { readonly encode: (value: ProtoInit<Res>) => Buffer; readonly decode: (bytes: Uint8Array) => Res },
): grpc.MethodDefinition<ProtoInit<Req>, ProtoInit<Res>> {
  return {
    path: `/proto.API/${name}`,
    requestStream: kind.requestStream,
    responseStream: kind.responseStream,
    requestSerialize: request.encode,
    requestDeserialize: request.decode as (bytes: Buffer) => ProtoInit<Req>,
    responseSerialize: response.encode,
    responseDeserialize: response.decode as (bytes: Buffer) => ProtoInit<Res>,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

const UNARY = { requestStream: false, responseStream: false } as const;
const SERVER_STREAM = { requestStream: false, responseStream: true } as const;
const BIDI_STREAM = { requestStream: true, responseStream: true } as const;

/** Subscribe frames: a Buffer passes through untouched; a Message object is encoded. */
function encodeSubscribeFrame(frame: SubscribeResponseFrame): Buffer {
  if (Buffer.isBuffer(frame)) return frame;
  if (frame instanceof Uint8Array) return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return api.encodeMessage(frame);
}

/**
 * The `proto.API` definition, for `server.addService` and `makeGenericClientConstructor`. Building it
 * loads nothing: the codecs parse api.proto on first use.
 */
export const apiServiceDefinition: grpc.ServiceDefinition = Object.freeze({
    CreateStream: method('CreateStream', UNARY,
      { encode: api.encodeCreateStreamRequest, decode: api.decodeCreateStreamRequest },
      { encode: api.encodeCreateStreamResponse, decode: api.decodeCreateStreamResponse }),
    DeleteStream: method('DeleteStream', UNARY,
      { encode: api.encodeDeleteStreamRequest, decode: api.decodeDeleteStreamRequest },
      { encode: api.encodeDeleteStreamResponse, decode: api.decodeDeleteStreamResponse }),
    PauseStream: method('PauseStream', UNARY,
      { encode: api.encodePauseStreamRequest, decode: api.decodePauseStreamRequest },
      { encode: api.encodePauseStreamResponse, decode: api.decodePauseStreamResponse }),
    SetStreamReadonly: method('SetStreamReadonly', UNARY,
      { encode: api.encodeSetStreamReadonlyRequest, decode: api.decodeSetStreamReadonlyRequest },
      { encode: api.encodeSetStreamReadonlyResponse, decode: api.decodeSetStreamReadonlyResponse }),
    Subscribe: {
      path: '/proto.API/Subscribe',
      ...SERVER_STREAM,
      requestSerialize: api.encodeSubscribeRequest,
      requestDeserialize: api.decodeSubscribeRequest,
      responseSerialize: encodeSubscribeFrame,
      responseDeserialize: api.decodeMessage,
      originalName: 'subscribe',
    },
    FetchMetadata: method('FetchMetadata', UNARY,
      { encode: api.encodeFetchMetadataRequest, decode: api.decodeFetchMetadataRequest },
      { encode: api.encodeFetchMetadataResponse, decode: api.decodeFetchMetadataResponse }),
    FetchPartitionMetadata: method('FetchPartitionMetadata', UNARY,
      { encode: api.encodeFetchPartitionMetadataRequest, decode: api.decodeFetchPartitionMetadataRequest },
      { encode: api.encodeFetchPartitionMetadataResponse, decode: api.decodeFetchPartitionMetadataResponse }),
    // The publish path is hot in both directions (a client encodes a request and decodes a response
    // per message, the server the reverse): hand-written codecs, checked against the reflection
    // codec in test/unit/adapters/codec.
    Publish: method('Publish', UNARY,
      { encode: encodePublishRequest, decode: decodePublishRequest },
      { encode: encodePublishResponse, decode: decodePublishResponse }),
    PublishAsync: method('PublishAsync', BIDI_STREAM,
      { encode: encodePublishRequest, decode: decodePublishRequest },
      { encode: encodePublishResponse, decode: decodePublishResponse }),
    PublishToSubject: method('PublishToSubject', UNARY,
      { encode: api.encodePublishToSubjectRequest, decode: api.decodePublishToSubjectRequest },
      { encode: api.encodePublishToSubjectResponse, decode: api.decodePublishToSubjectResponse }),
    SetCursor: method('SetCursor', UNARY,
      { encode: api.encodeSetCursorRequest, decode: api.decodeSetCursorRequest },
      { encode: api.encodeSetCursorResponse, decode: api.decodeSetCursorResponse }),
    FetchCursor: method('FetchCursor', UNARY,
      { encode: api.encodeFetchCursorRequest, decode: api.decodeFetchCursorRequest },
      { encode: api.encodeFetchCursorResponse, decode: api.decodeFetchCursorResponse }),
    JoinConsumerGroup: method('JoinConsumerGroup', UNARY,
      { encode: api.encodeJoinConsumerGroupRequest, decode: api.decodeJoinConsumerGroupRequest },
      { encode: api.encodeJoinConsumerGroupResponse, decode: api.decodeJoinConsumerGroupResponse }),
    LeaveConsumerGroup: method('LeaveConsumerGroup', UNARY,
      { encode: api.encodeLeaveConsumerGroupRequest, decode: api.decodeLeaveConsumerGroupRequest },
      { encode: api.encodeLeaveConsumerGroupResponse, decode: api.decodeLeaveConsumerGroupResponse }),
    FetchConsumerGroupAssignments: method('FetchConsumerGroupAssignments', UNARY,
      { encode: api.encodeFetchConsumerGroupAssignmentsRequest, decode: api.decodeFetchConsumerGroupAssignmentsRequest },
      { encode: api.encodeFetchConsumerGroupAssignmentsResponse, decode: api.decodeFetchConsumerGroupAssignmentsResponse }),
    ReportConsumerGroupCoordinator: method('ReportConsumerGroupCoordinator', UNARY,
      { encode: api.encodeReportConsumerGroupCoordinatorRequest, decode: api.decodeReportConsumerGroupCoordinatorRequest },
      { encode: api.encodeReportConsumerGroupCoordinatorResponse, decode: api.decodeReportConsumerGroupCoordinatorResponse }),
});

/** The fully-qualified service name (also the name reported by the health service, docs/protocol.md "Service"). */
export const API_SERVICE_NAME = 'proto.API';

// ---------------------------------------------------------------------------------------------
// Server side

type Unary<Req, Res> = grpc.handleUnaryCall<Req, ProtoInit<Res>>;

/** Handlers by camelCase method name. Responses may omit fields (absent = proto3 default). */
export type ApiServiceHandlers = {
  createStream: Unary<api.CreateStreamRequest, api.CreateStreamResponse>;
  deleteStream: Unary<api.DeleteStreamRequest, api.DeleteStreamResponse>;
  pauseStream: Unary<api.PauseStreamRequest, api.PauseStreamResponse>;
  setStreamReadonly: Unary<api.SetStreamReadonlyRequest, api.SetStreamReadonlyResponse>;
  subscribe: grpc.handleServerStreamingCall<api.SubscribeRequest, SubscribeResponseFrame>;
  fetchMetadata: Unary<api.FetchMetadataRequest, api.FetchMetadataResponse>;
  fetchPartitionMetadata: Unary<api.FetchPartitionMetadataRequest, api.FetchPartitionMetadataResponse>;
  publish: Unary<api.PublishRequest, api.PublishResponse>;
  publishAsync: grpc.handleBidiStreamingCall<api.PublishRequest, ProtoInit<api.PublishResponse>>;
  publishToSubject: Unary<api.PublishToSubjectRequest, api.PublishToSubjectResponse>;
  setCursor: Unary<api.SetCursorRequest, api.SetCursorResponse>;
  fetchCursor: Unary<api.FetchCursorRequest, api.FetchCursorResponse>;
  joinConsumerGroup: Unary<api.JoinConsumerGroupRequest, api.JoinConsumerGroupResponse>;
  leaveConsumerGroup: Unary<api.LeaveConsumerGroupRequest, api.LeaveConsumerGroupResponse>;
  fetchConsumerGroupAssignments: Unary<api.FetchConsumerGroupAssignmentsRequest, api.FetchConsumerGroupAssignmentsResponse>;
  reportConsumerGroupCoordinator: Unary<
    api.ReportConsumerGroupCoordinatorRequest,
    api.ReportConsumerGroupCoordinatorResponse
  >;
};

/**
 * Registers `proto.API` on `server`. Methods missing from `handlers` answer UNIMPLEMENTED
 * (grpc-js default).
 */
export function addApiService(server: grpc.Server, handlers: Partial<ApiServiceHandlers>): void {
  server.addService(apiServiceDefinition, handlers as grpc.UntypedServiceImplementation);
}

// ---------------------------------------------------------------------------------------------
// Client side (tests and tools)

type CallOptions = Partial<grpc.CallOptions>;

export interface UnaryClientMethod<Req, Res> {
  (request: ProtoInit<Req>, callback: grpc.requestCallback<Res>): grpc.ClientUnaryCall;
  (request: ProtoInit<Req>, metadata: grpc.Metadata, callback: grpc.requestCallback<Res>): grpc.ClientUnaryCall;
  (request: ProtoInit<Req>, options: CallOptions, callback: grpc.requestCallback<Res>): grpc.ClientUnaryCall;
  (
    request: ProtoInit<Req>, metadata: grpc.Metadata, options: CallOptions, callback: grpc.requestCallback<Res>,
  ): grpc.ClientUnaryCall;
}

export interface ServerStreamingClientMethod<Req, Res> {
  (request: ProtoInit<Req>, options?: CallOptions): grpc.ClientReadableStream<Res>;
  (request: ProtoInit<Req>, metadata: grpc.Metadata, options?: CallOptions): grpc.ClientReadableStream<Res>;
}

export interface BidiStreamingClientMethod<Req, Res> {
  (options?: CallOptions): grpc.ClientDuplexStream<ProtoInit<Req>, Res>;
  (metadata: grpc.Metadata, options?: CallOptions): grpc.ClientDuplexStream<ProtoInit<Req>, Res>;
}

/** A typed `proto.API` client (camelCase methods). */
export interface ApiClient extends grpc.Client {
  createStream: UnaryClientMethod<api.CreateStreamRequest, api.CreateStreamResponse>;
  deleteStream: UnaryClientMethod<api.DeleteStreamRequest, api.DeleteStreamResponse>;
  pauseStream: UnaryClientMethod<api.PauseStreamRequest, api.PauseStreamResponse>;
  setStreamReadonly: UnaryClientMethod<api.SetStreamReadonlyRequest, api.SetStreamReadonlyResponse>;
  subscribe: ServerStreamingClientMethod<api.SubscribeRequest, api.Message>;
  fetchMetadata: UnaryClientMethod<api.FetchMetadataRequest, api.FetchMetadataResponse>;
  fetchPartitionMetadata: UnaryClientMethod<api.FetchPartitionMetadataRequest, api.FetchPartitionMetadataResponse>;
  publish: UnaryClientMethod<api.PublishRequest, api.PublishResponse>;
  publishAsync: BidiStreamingClientMethod<api.PublishRequest, api.PublishResponse>;
  publishToSubject: UnaryClientMethod<api.PublishToSubjectRequest, api.PublishToSubjectResponse>;
  setCursor: UnaryClientMethod<api.SetCursorRequest, api.SetCursorResponse>;
  fetchCursor: UnaryClientMethod<api.FetchCursorRequest, api.FetchCursorResponse>;
  joinConsumerGroup: UnaryClientMethod<api.JoinConsumerGroupRequest, api.JoinConsumerGroupResponse>;
  leaveConsumerGroup: UnaryClientMethod<api.LeaveConsumerGroupRequest, api.LeaveConsumerGroupResponse>;
  fetchConsumerGroupAssignments: UnaryClientMethod<
    api.FetchConsumerGroupAssignmentsRequest,
    api.FetchConsumerGroupAssignmentsResponse
  >;
  reportConsumerGroupCoordinator: UnaryClientMethod<
    api.ReportConsumerGroupCoordinatorRequest,
    api.ReportConsumerGroupCoordinatorResponse
  >;
}

/** A `proto.API` client for tests and tools; close it with `client.close()`. */
export function createApiClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
): ApiClient {
  const Constructor = grpc.makeGenericClientConstructor(apiServiceDefinition, API_SERVICE_NAME);
  return new Constructor(address, credentials, options) as unknown as ApiClient;
}
