/**
 * TypeScript shapes of the `proto.API` messages (proto/api.proto, docs/protocol.md "Messages", "Enums").
 *
 * Field names are the proto names. 64-bit integers are `bigint`, bytes are `Buffer`, maps are
 * records, an absent sub-message (including the Nullable wrappers: absent = "server default") is
 * `undefined`. Enums are numeric and open: a decoded value may be outside the declared members
 * (docs/reliability.md "Bad inputs" A11 is enforced by request validation, not by the codec).
 */

// ---------------------------------------------------------------------------------------------
// Enums (docs/protocol.md "Enums"). Member names are the proto names so they can be grepped against the proto.

import { AckError, AckPolicy, StartPosition, StopPosition } from '../domain/shared/wire-enums';

export { AckError, AckPolicy, StartPosition, StopPosition };

/** `PublishAsyncError.Code`. */
export enum PublishAsyncErrorCode {
  UNKNOWN = 0,
  BAD_REQUEST = 1,
  NOT_FOUND = 2,
  INTERNAL = 3,
  READONLY = 4,
  INCORRECT_OFFSET = 5,
  ENCRYPTION_FAILED = 6,
  PERMISSION_DENIED = 7,
}

/** `StreamMetadata.Error`. */
export enum StreamMetadataError {
  OK = 0,
  UNKNOWN_STREAM = 1,
}

/** `ConsumerGroupMetadata.Error`. */
export enum ConsumerGroupMetadataError {
  OK = 0,
  UNKNOWN_GROUP = 1,
}

export enum ActivityStreamOp {
  CREATE_STREAM = 0,
  DELETE_STREAM = 1,
  PAUSE_STREAM = 2,
  RESUME_STREAM = 3,
  SET_STREAM_READONLY = 4,
  JOIN_CONSUMER_GROUP = 5,
  LEAVE_CONSUMER_GROUP = 6,
}

// ---------------------------------------------------------------------------------------------
// Nullable wrappers (docs/protocol.md "Nullable wrappers")

export interface NullableInt64 { readonly value: bigint }
export interface NullableInt32 { readonly value: number }
export interface NullableBool { readonly value: boolean }

/** A message without fields (CreateStreamResponse and the other empty responses). */
export type EmptyMessage = Record<string, never>;

// ---------------------------------------------------------------------------------------------
// Requests and responses (docs/protocol.md "Messages")

export interface CreateStreamRequest {
  readonly subject: string;
  readonly name: string;
  readonly group: string;
  readonly replicationFactor: number;
  readonly partitions: number;
  readonly retentionMaxBytes?: NullableInt64;
  readonly retentionMaxMessages?: NullableInt64;
  /** Milliseconds. */
  readonly retentionMaxAge?: NullableInt64;
  /** Milliseconds. */
  readonly cleanerInterval?: NullableInt64;
  readonly segmentMaxBytes?: NullableInt64;
  /** Milliseconds. */
  readonly segmentMaxAge?: NullableInt64;
  readonly compactMaxGoroutines?: NullableInt32;
  readonly compactEnabled?: NullableBool;
  /** Milliseconds. */
  readonly autoPauseTime?: NullableInt64;
  readonly autoPauseDisableIfSubscribers?: NullableBool;
  readonly minIsr?: NullableInt32;
  readonly optimisticConcurrencyControl?: NullableBool;
  readonly encryption?: NullableBool;
}
export type CreateStreamResponse = EmptyMessage;

export interface DeleteStreamRequest { readonly name: string }
export type DeleteStreamResponse = EmptyMessage;

export interface PauseStreamRequest {
  readonly name: string;
  /** Empty = all partitions. */
  readonly partitions: readonly number[];
  readonly resumeAll: boolean;
}
export type PauseStreamResponse = EmptyMessage;

export interface SetStreamReadonlyRequest {
  readonly name: string;
  /** Empty = all partitions. */
  readonly partitions: readonly number[];
  readonly readonly: boolean;
}
export type SetStreamReadonlyResponse = EmptyMessage;

export interface Consumer {
  readonly groupId: string;
  readonly groupEpoch: bigint;
  readonly consumerId: string;
}

export interface SubscribeRequest {
  readonly stream: string;
  readonly partition: number;
  readonly startPosition: StartPosition;
  readonly startOffset: bigint;
  /** Unix nanoseconds. */
  readonly startTimestamp: bigint;
  readonly readISRReplica: boolean;
  readonly resume: boolean;
  readonly stopPosition: StopPosition;
  readonly stopOffset: bigint;
  /** Unix nanoseconds. */
  readonly stopTimestamp: bigint;
  readonly consumer?: Consumer;
  /** Field number 12 is unverified (docs/compatibility.md "Unverified: SubscribeRequest.reverse = 12"). */
  readonly reverse: boolean;
}

export interface FetchMetadataRequest {
  readonly streams: readonly string[];
  readonly groups: readonly string[];
}

export interface Broker {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly partitionCount: number;
  readonly leaderCount: number;
}

export interface PartitionEventTimestamps {
  readonly firstTimestamp: bigint;
  readonly latestTimestamp: bigint;
}

export interface PartitionMetadata {
  readonly id: number;
  readonly leader: string;
  readonly replicas: readonly string[];
  readonly isr: readonly string[];
  readonly highWatermark: bigint;
  readonly newestOffset: bigint;
  readonly paused: boolean;
  readonly readonly: boolean;
  readonly messagesReceivedTimestamps?: PartitionEventTimestamps;
  readonly pauseTimestamps?: PartitionEventTimestamps;
  readonly readonlyTimestamps?: PartitionEventTimestamps;
}

export interface StreamMetadata {
  readonly name: string;
  readonly subject: string;
  readonly error: StreamMetadataError;
  readonly partitions: Readonly<Record<number, PartitionMetadata>>;
  /** Unix nanoseconds. */
  readonly creationTimestamp: bigint;
}

export interface ConsumerGroupMetadata {
  readonly groupId: string;
  readonly error: ConsumerGroupMetadataError;
  readonly coordinator: string;
  readonly epoch: bigint;
}

export interface FetchMetadataResponse {
  readonly brokers: readonly Broker[];
  readonly streamMetadata: readonly StreamMetadata[];
  readonly groupMetadata: readonly ConsumerGroupMetadata[];
}

export interface FetchPartitionMetadataRequest {
  readonly stream: string;
  readonly partition: number;
}
export interface FetchPartitionMetadataResponse { readonly metadata?: PartitionMetadata }

export interface PublishRequest {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly stream: string;
  readonly partition: number;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  /** -1 = no check; note that an absent field decodes as 0 (proto3), clients must send -1. */
  readonly expectedOffset: bigint;
}

export interface PublishAsyncError {
  readonly code: PublishAsyncErrorCode;
  readonly message: string;
}

export interface PublishResponse {
  readonly ack?: Ack;
  readonly asyncError?: PublishAsyncError;
  readonly correlationId: string;
}

export interface PublishToSubjectRequest {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly subject: string;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
}
export interface PublishToSubjectResponse { readonly ack?: Ack }

export interface SetCursorRequest {
  readonly stream: string;
  readonly partition: number;
  readonly cursorId: string;
  readonly offset: bigint;
}
export type SetCursorResponse = EmptyMessage;

export interface FetchCursorRequest {
  readonly stream: string;
  readonly partition: number;
  readonly cursorId: string;
}
/** `offset` is -1 when the cursor is unknown. */
export interface FetchCursorResponse { readonly offset: bigint }

export interface JoinConsumerGroupRequest {
  readonly groupId: string;
  readonly consumerId: string;
  readonly streams: readonly string[];
}
export interface JoinConsumerGroupResponse {
  readonly coordinator: string;
  readonly epoch: bigint;
  /** Go duration in nanoseconds. */
  readonly consumerTimeout: bigint;
  /** Go duration in nanoseconds. */
  readonly coordinatorTimeout: bigint;
}

export interface LeaveConsumerGroupRequest {
  readonly groupId: string;
  readonly consumerId: string;
}
export type LeaveConsumerGroupResponse = EmptyMessage;

export interface FetchConsumerGroupAssignmentsRequest {
  readonly groupId: string;
  readonly consumerId: string;
  readonly epoch: bigint;
}
export interface PartitionAssignment {
  readonly stream: string;
  readonly partitions: readonly number[];
}
export interface FetchConsumerGroupAssignmentsResponse {
  readonly epoch: bigint;
  readonly assignments: readonly PartitionAssignment[];
}

export interface ReportConsumerGroupCoordinatorRequest {
  readonly groupId: string;
  readonly consumerId: string;
  readonly coordinator: string;
  readonly epoch: bigint;
}
export type ReportConsumerGroupCoordinatorResponse = EmptyMessage;

/** What Subscribe streams; also the body of a NATS publish envelope (docs/protocol.md "Message"). */
export interface Message {
  /** Partition offset on Subscribe; the expected offset (OCC, -1 = none) in a publish envelope. */
  readonly offset: bigint;
  readonly key: Buffer;
  readonly value: Buffer;
  /** Unix nanoseconds. */
  readonly timestamp: bigint;
  readonly stream: string;
  readonly partition: number;
  readonly subject: string;
  readonly replySubject: string;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
}

export interface Ack {
  readonly stream: string;
  /** The stream's base subject, not `subject.N`. */
  readonly partitionSubject: string;
  readonly msgSubject: string;
  readonly offset: bigint;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  /** Unix nanoseconds. */
  readonly receptionTimestamp: bigint;
  /** Unix nanoseconds. */
  readonly commitTimestamp: bigint;
  readonly ackError: AckError;
}

// ---------------------------------------------------------------------------------------------
// Activity stream (`__activity` values; proto/api.proto)

export interface ActivityCreateStreamOp { readonly stream: string; readonly partitions: readonly number[] }
export interface ActivityDeleteStreamOp { readonly stream: string }
export interface ActivityPauseStreamOp {
  readonly stream: string;
  readonly partitions: readonly number[];
  readonly resumeAll: boolean;
}
export interface ActivityResumeStreamOp { readonly stream: string; readonly partitions: readonly number[] }
export interface ActivitySetStreamReadonlyOp {
  readonly stream: string;
  readonly partitions: readonly number[];
  readonly readonly: boolean;
}
export interface ActivityJoinConsumerGroupOp {
  readonly groupId: string;
  readonly consumerId: string;
  readonly streams: readonly string[];
}
export interface ActivityLeaveConsumerGroupOp {
  readonly groupId: string;
  readonly consumerId: string;
  readonly expired: boolean;
}

export interface ActivityStreamEvent {
  readonly id: bigint;
  readonly op: ActivityStreamOp;
  readonly createStreamOp?: ActivityCreateStreamOp;
  readonly deleteStreamOp?: ActivityDeleteStreamOp;
  readonly pauseStreamOp?: ActivityPauseStreamOp;
  readonly resumeStreamOp?: ActivityResumeStreamOp;
  readonly setStreamReadonlyOp?: ActivitySetStreamReadonlyOp;
  readonly joinConsumerGroupOp?: ActivityJoinConsumerGroupOp;
  readonly leaveConsumerGroupOp?: ActivityLeaveConsumerGroupOp;
}

/** Every message of proto/api.proto, by proto name, for `apiCodec(name)`. */
export interface ApiMessages {
  NullableInt64: NullableInt64;
  NullableInt32: NullableInt32;
  NullableBool: NullableBool;
  CreateStreamRequest: CreateStreamRequest;
  CreateStreamResponse: CreateStreamResponse;
  DeleteStreamRequest: DeleteStreamRequest;
  DeleteStreamResponse: DeleteStreamResponse;
  PauseStreamRequest: PauseStreamRequest;
  PauseStreamResponse: PauseStreamResponse;
  SetStreamReadonlyRequest: SetStreamReadonlyRequest;
  SetStreamReadonlyResponse: SetStreamReadonlyResponse;
  Consumer: Consumer;
  SubscribeRequest: SubscribeRequest;
  FetchMetadataRequest: FetchMetadataRequest;
  Broker: Broker;
  PartitionEventTimestamps: PartitionEventTimestamps;
  PartitionMetadata: PartitionMetadata;
  StreamMetadata: StreamMetadata;
  ConsumerGroupMetadata: ConsumerGroupMetadata;
  FetchMetadataResponse: FetchMetadataResponse;
  FetchPartitionMetadataRequest: FetchPartitionMetadataRequest;
  FetchPartitionMetadataResponse: FetchPartitionMetadataResponse;
  PublishRequest: PublishRequest;
  PublishAsyncError: PublishAsyncError;
  PublishResponse: PublishResponse;
  PublishToSubjectRequest: PublishToSubjectRequest;
  PublishToSubjectResponse: PublishToSubjectResponse;
  SetCursorRequest: SetCursorRequest;
  SetCursorResponse: SetCursorResponse;
  FetchCursorRequest: FetchCursorRequest;
  FetchCursorResponse: FetchCursorResponse;
  JoinConsumerGroupRequest: JoinConsumerGroupRequest;
  JoinConsumerGroupResponse: JoinConsumerGroupResponse;
  LeaveConsumerGroupRequest: LeaveConsumerGroupRequest;
  LeaveConsumerGroupResponse: LeaveConsumerGroupResponse;
  FetchConsumerGroupAssignmentsRequest: FetchConsumerGroupAssignmentsRequest;
  PartitionAssignment: PartitionAssignment;
  FetchConsumerGroupAssignmentsResponse: FetchConsumerGroupAssignmentsResponse;
  ReportConsumerGroupCoordinatorRequest: ReportConsumerGroupCoordinatorRequest;
  ReportConsumerGroupCoordinatorResponse: ReportConsumerGroupCoordinatorResponse;
  Message: Message;
  Ack: Ack;
  CreateStreamOp: ActivityCreateStreamOp;
  DeleteStreamOp: ActivityDeleteStreamOp;
  PauseStreamOp: ActivityPauseStreamOp;
  ResumeStreamOp: ActivityResumeStreamOp;
  SetStreamReadonlyOp: ActivitySetStreamReadonlyOp;
  JoinConsumerGroupOp: ActivityJoinConsumerGroupOp;
  LeaveConsumerGroupOp: ActivityLeaveConsumerGroupOp;
  ActivityStreamEvent: ActivityStreamEvent;
}
