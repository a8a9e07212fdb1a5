import * as protobuf from 'protobufjs';
import type { ApiMessages } from './api-types';
import type {
  ActivityStreamEvent,
  CreateStreamRequest,
  CreateStreamResponse,
  DeleteStreamRequest,
  DeleteStreamResponse,
  FetchConsumerGroupAssignmentsRequest,
  FetchConsumerGroupAssignmentsResponse,
  FetchCursorRequest,
  FetchCursorResponse,
  FetchMetadataRequest,
  FetchMetadataResponse,
  FetchPartitionMetadataRequest,
  FetchPartitionMetadataResponse,
  JoinConsumerGroupRequest,
  JoinConsumerGroupResponse,
  LeaveConsumerGroupRequest,
  LeaveConsumerGroupResponse,
  Message,
  PauseStreamRequest,
  PauseStreamResponse,
  PublishRequest,
  PublishResponse,
  PublishToSubjectRequest,
  PublishToSubjectResponse,
  ReportConsumerGroupCoordinatorRequest,
  ReportConsumerGroupCoordinatorResponse,
  SetCursorRequest,
  SetCursorResponse,
  SetStreamReadonlyRequest,
  SetStreamReadonlyResponse,
  SubscribeRequest,
} from './api-types';
import { createMessageCodec, lazy, loadProtoRoot, type MessageCodec, type ProtoInit } from './proto-schema';

export * from './api-types';
export type { MessageCodec, ProtoInit } from './proto-schema';

/**
 * Encoders and decoders for every `proto.API` message (proto/api.proto), driven by protobufjs
 * reflection. 64-bit fields come out as `bigint` without loss (a nanosecond timestamp such as
 * 1700000000123456789 survives); malformed bytes throw ProtobufDecodeError; unknown fields are
 * ignored, as in any proto3 decoder. The hot paths (publish envelopes, acks, Subscribe messages)
 * have hand-written codecs in publish-message-codec.ts, ack-codec.ts and subscribe-message-codec.ts.
 */

/** The parsed `api.proto` (shared, immutable; see `lazy`). */
export const apiProtoRoot: () => protobuf.Root = lazy(() => loadProtoRoot('api.proto'));

/** One codec per message type of api.proto, built once with the schema and never changed. */
const apiCodecs = lazy((): ReadonlyMap<string, MessageCodec<unknown>> => {
  const root = apiProtoRoot();
  const codecs = new Map<string, MessageCodec<unknown>>();
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type) codecs.set(nested.fullName.replace(/^\.proto\./, ''), createMessageCodec(root, nested.fullName));
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root.lookup('proto') as protobuf.Namespace);
  return codecs;
});

/** The codec of any message of api.proto, by proto name (e.g. `apiCodec('Broker')`). */
export function apiCodec<K extends keyof ApiMessages>(name: K): MessageCodec<ApiMessages[K]> {
  const codec = apiCodecs().get(name);
  if (codec === undefined) throw new Error(`api.proto has no message ${name}`);
  return codec as MessageCodec<ApiMessages[K]>;
}

// One encode/decode pair per RPC request and response, plus Message and the activity event.
export const encodeSubscribeRequest = (value: ProtoInit<SubscribeRequest>): Buffer => apiCodec('SubscribeRequest').encode(value);
export const decodeSubscribeRequest = (bytes: Uint8Array): SubscribeRequest => apiCodec('SubscribeRequest').decode(bytes);
export const encodeCreateStreamRequest = (value: ProtoInit<CreateStreamRequest>): Buffer => apiCodec('CreateStreamRequest').encode(value);
export const decodeCreateStreamRequest = (bytes: Uint8Array): CreateStreamRequest => apiCodec('CreateStreamRequest').decode(bytes);
export const encodeCreateStreamResponse = (value: ProtoInit<CreateStreamResponse>): Buffer => apiCodec('CreateStreamResponse').encode(value);
export const decodeCreateStreamResponse = (bytes: Uint8Array): CreateStreamResponse => apiCodec('CreateStreamResponse').decode(bytes);
export const encodeDeleteStreamRequest = (value: ProtoInit<DeleteStreamRequest>): Buffer => apiCodec('DeleteStreamRequest').encode(value);
export const decodeDeleteStreamRequest = (bytes: Uint8Array): DeleteStreamRequest => apiCodec('DeleteStreamRequest').decode(bytes);
export const encodeDeleteStreamResponse = (value: ProtoInit<DeleteStreamResponse>): Buffer => apiCodec('DeleteStreamResponse').encode(value);
export const decodeDeleteStreamResponse = (bytes: Uint8Array): DeleteStreamResponse => apiCodec('DeleteStreamResponse').decode(bytes);
export const encodePauseStreamRequest = (value: ProtoInit<PauseStreamRequest>): Buffer => apiCodec('PauseStreamRequest').encode(value);
export const decodePauseStreamRequest = (bytes: Uint8Array): PauseStreamRequest => apiCodec('PauseStreamRequest').decode(bytes);
export const encodePauseStreamResponse = (value: ProtoInit<PauseStreamResponse>): Buffer => apiCodec('PauseStreamResponse').encode(value);
export const decodePauseStreamResponse = (bytes: Uint8Array): PauseStreamResponse => apiCodec('PauseStreamResponse').decode(bytes);
export const encodeSetStreamReadonlyRequest = (value: ProtoInit<SetStreamReadonlyRequest>): Buffer => apiCodec('SetStreamReadonlyRequest').encode(value);
export const decodeSetStreamReadonlyRequest = (bytes: Uint8Array): SetStreamReadonlyRequest => apiCodec('SetStreamReadonlyRequest').decode(bytes);
export const encodeSetStreamReadonlyResponse = (value: ProtoInit<SetStreamReadonlyResponse>): Buffer => apiCodec('SetStreamReadonlyResponse').encode(value);
export const decodeSetStreamReadonlyResponse = (bytes: Uint8Array): SetStreamReadonlyResponse => apiCodec('SetStreamReadonlyResponse').decode(bytes);
export const encodeFetchMetadataRequest = (value: ProtoInit<FetchMetadataRequest>): Buffer => apiCodec('FetchMetadataRequest').encode(value);
export const decodeFetchMetadataRequest = (bytes: Uint8Array): FetchMetadataRequest => apiCodec('FetchMetadataRequest').decode(bytes);
export const encodeFetchMetadataResponse = (value: ProtoInit<FetchMetadataResponse>): Buffer => apiCodec('FetchMetadataResponse').encode(value);
export const decodeFetchMetadataResponse = (bytes: Uint8Array): FetchMetadataResponse => apiCodec('FetchMetadataResponse').decode(bytes);
export const encodeFetchPartitionMetadataRequest = (value: ProtoInit<FetchPartitionMetadataRequest>): Buffer => apiCodec('FetchPartitionMetadataRequest').encode(value);
export const decodeFetchPartitionMetadataRequest = (bytes: Uint8Array): FetchPartitionMetadataRequest => apiCodec('FetchPartitionMetadataRequest').decode(bytes);
export const encodeFetchPartitionMetadataResponse = (value: ProtoInit<FetchPartitionMetadataResponse>): Buffer => apiCodec('FetchPartitionMetadataResponse').encode(value);
export const decodeFetchPartitionMetadataResponse = (bytes: Uint8Array): FetchPartitionMetadataResponse => apiCodec('FetchPartitionMetadataResponse').decode(bytes);
export const encodePublishRequest = (value: ProtoInit<PublishRequest>): Buffer => apiCodec('PublishRequest').encode(value);
export const decodePublishRequest = (bytes: Uint8Array): PublishRequest => apiCodec('PublishRequest').decode(bytes);
export const encodePublishResponse = (value: ProtoInit<PublishResponse>): Buffer => apiCodec('PublishResponse').encode(value);
export const decodePublishResponse = (bytes: Uint8Array): PublishResponse => apiCodec('PublishResponse').decode(bytes);
export const encodePublishToSubjectRequest = (value: ProtoInit<PublishToSubjectRequest>): Buffer => apiCodec('PublishToSubjectRequest').encode(value);
export const decodePublishToSubjectRequest = (bytes: Uint8Array): PublishToSubjectRequest => apiCodec('PublishToSubjectRequest').decode(bytes);
export const encodePublishToSubjectResponse = (value: ProtoInit<PublishToSubjectResponse>): Buffer => apiCodec('PublishToSubjectResponse').encode(value);
export const decodePublishToSubjectResponse = (bytes: Uint8Array): PublishToSubjectResponse => apiCodec('PublishToSubjectResponse').decode(bytes);
export const encodeSetCursorRequest = (value: ProtoInit<SetCursorRequest>): Buffer => apiCodec('SetCursorRequest').encode(value);
export const decodeSetCursorRequest = (bytes: Uint8Array): SetCursorRequest => apiCodec('SetCursorRequest').decode(bytes);
export const encodeSetCursorResponse = (value: ProtoInit<SetCursorResponse>): Buffer => apiCodec('SetCursorResponse').encode(value);
export const decodeSetCursorResponse = (bytes: Uint8Array): SetCursorResponse => apiCodec('SetCursorResponse').decode(bytes);
export const encodeFetchCursorRequest = (value: ProtoInit<FetchCursorRequest>): Buffer => apiCodec('FetchCursorRequest').encode(value);
export const decodeFetchCursorRequest = (bytes: Uint8Array): FetchCursorRequest => apiCodec('FetchCursorRequest').decode(bytes);
export const encodeFetchCursorResponse = (value: ProtoInit<FetchCursorResponse>): Buffer => apiCodec('FetchCursorResponse').encode(value);
export const decodeFetchCursorResponse = (bytes: Uint8Array): FetchCursorResponse => apiCodec('FetchCursorResponse').decode(bytes);
export const encodeJoinConsumerGroupRequest = (value: ProtoInit<JoinConsumerGroupRequest>): Buffer => apiCodec('JoinConsumerGroupRequest').encode(value);
export const decodeJoinConsumerGroupRequest = (bytes: Uint8Array): JoinConsumerGroupRequest => apiCodec('JoinConsumerGroupRequest').decode(bytes);
export const encodeJoinConsumerGroupResponse = (value: ProtoInit<JoinConsumerGroupResponse>): Buffer => apiCodec('JoinConsumerGroupResponse').encode(value);
export const decodeJoinConsumerGroupResponse = (bytes: Uint8Array): JoinConsumerGroupResponse => apiCodec('JoinConsumerGroupResponse').decode(bytes);
export const encodeLeaveConsumerGroupRequest = (value: ProtoInit<LeaveConsumerGroupRequest>): Buffer => apiCodec('LeaveConsumerGroupRequest').encode(value);
export const decodeLeaveConsumerGroupRequest = (bytes: Uint8Array): LeaveConsumerGroupRequest => apiCodec('LeaveConsumerGroupRequest').decode(bytes);
export const encodeLeaveConsumerGroupResponse = (value: ProtoInit<LeaveConsumerGroupResponse>): Buffer => apiCodec('LeaveConsumerGroupResponse').encode(value);
export const decodeLeaveConsumerGroupResponse = (bytes: Uint8Array): LeaveConsumerGroupResponse => apiCodec('LeaveConsumerGroupResponse').decode(bytes);
export const encodeFetchConsumerGroupAssignmentsRequest = (value: ProtoInit<FetchConsumerGroupAssignmentsRequest>): Buffer => apiCodec('FetchConsumerGroupAssignmentsRequest').encode(value);
export const decodeFetchConsumerGroupAssignmentsRequest = (bytes: Uint8Array): FetchConsumerGroupAssignmentsRequest => apiCodec('FetchConsumerGroupAssignmentsRequest').decode(bytes);
export const encodeFetchConsumerGroupAssignmentsResponse = (value: ProtoInit<FetchConsumerGroupAssignmentsResponse>): Buffer => apiCodec('FetchConsumerGroupAssignmentsResponse').encode(value);
export const decodeFetchConsumerGroupAssignmentsResponse = (bytes: Uint8Array): FetchConsumerGroupAssignmentsResponse => apiCodec('FetchConsumerGroupAssignmentsResponse').decode(bytes);
export const encodeReportConsumerGroupCoordinatorRequest = (value: ProtoInit<ReportConsumerGroupCoordinatorRequest>): Buffer => apiCodec('ReportConsumerGroupCoordinatorRequest').encode(value);
export const decodeReportConsumerGroupCoordinatorRequest = (bytes: Uint8Array): ReportConsumerGroupCoordinatorRequest => apiCodec('ReportConsumerGroupCoordinatorRequest').decode(bytes);
export const encodeReportConsumerGroupCoordinatorResponse = (value: ProtoInit<ReportConsumerGroupCoordinatorResponse>): Buffer => apiCodec('ReportConsumerGroupCoordinatorResponse').encode(value);
export const decodeReportConsumerGroupCoordinatorResponse = (bytes: Uint8Array): ReportConsumerGroupCoordinatorResponse => apiCodec('ReportConsumerGroupCoordinatorResponse').decode(bytes);
export const encodeMessage = (value: ProtoInit<Message>): Buffer => apiCodec('Message').encode(value);
export const decodeMessage = (bytes: Uint8Array): Message => apiCodec('Message').decode(bytes);
export const encodeActivityStreamEvent = (value: ProtoInit<ActivityStreamEvent>): Buffer => apiCodec('ActivityStreamEvent').encode(value);
export const decodeActivityStreamEvent = (bytes: Uint8Array): ActivityStreamEvent => apiCodec('ActivityStreamEvent').decode(bytes);
