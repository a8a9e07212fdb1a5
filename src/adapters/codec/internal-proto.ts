import * as protobuf from 'protobufjs';
import { MsgType } from '../../protocol/envelope';
import { createMessageCodec, lazy, loadProtoRoot, type MessageCodec } from '../../protocol/proto-schema';

/**
 * Untyped codecs for the internal protocol (proto/internal.proto, package `protocol`, docs/protocol.md "Internal messages").
 * The replication, Raft and metadata codecs build typed wrappers on top of these; the plain-object
 * conventions are those of proto-schema.ts (64-bit integers as bigint, bytes as Buffer, absent
 * sub-messages undefined).
 */

/** Every message of internal.proto, by name. */
export type InternalMessageName =
  | 'ServerState' | 'RaftLog' | 'CreateStreamOp' | 'ShrinkISROp' | 'ExpandISROp' | 'DeleteStreamOp'
  | 'PauseStreamOp' | 'ResumeStreamOp' | 'ReportLeaderOp' | 'ChangeLeaderOp'
  | 'ReportConsumerGroupCoordinatorOp' | 'ChangeConsumerGroupCoordinatorOp' | 'PublishActivityOp'
  | 'SetStreamReadonlyOp' | 'CreateConsumerGroupOp' | 'JoinConsumerGroupOp' | 'LeaveConsumerGroupOp'
  | 'NullableInt64' | 'NullableInt32' | 'NullableBool' | 'StreamConfig' | 'Stream' | 'Partition'
  | 'Consumer' | 'ConsumerGroup' | 'RaftJoinRequest' | 'RaftJoinResponse' | 'MetadataSnapshot'
  | 'ReplicationRequest' | 'LeaderEpochOffsetRequest' | 'LeaderEpochOffsetResponse'
  | 'PropagatedRequest' | 'Error' | 'PropagatedResponse' | 'PropagatedResponse.JoinConsumerGroupResponse'
  | 'ServerInfoRequest' | 'ServerInfoResponse' | 'PartitionStatusRequest' | 'PartitionStatusResponse'
  | 'PartitionNotification' | 'Cursor';

/** A decoded internal message as a plain object (see proto-schema.ts for the conventions). */
export type InternalMessage = Record<string, unknown>;

/** `protocol.Op`. */
export enum InternalOp {
  CREATE_STREAM = 0,
  SHRINK_ISR = 1,
  REPORT_LEADER = 2,
  CHANGE_LEADER = 3,
  EXPAND_ISR = 4,
  DELETE_STREAM = 5,
  PAUSE_STREAM = 6,
  RESUME_STREAM = 7,
  PUBLISH_ACTIVITY = 8,
  SET_STREAM_READONLY = 9,
  CREATE_CONSUMER_GROUP = 10,
  JOIN_CONSUMER_GROUP = 11,
  LEAVE_CONSUMER_GROUP = 12,
  REPORT_CONSUMER_GROUP_COORDINATOR = 13,
  CHANGE_CONSUMER_GROUP_COORDINATOR = 14,
}

/** The protobuf payload of each internal MsgType (docs/protocol.md "MsgType values"); ReplicationResponse is binary ("ReplicationResponse"). */
export const INTERNAL_PAYLOAD_TYPES: Readonly<Partial<Record<MsgType, InternalMessageName>>> = Object.freeze({
  [MsgType.ReplicationRequest]: 'ReplicationRequest',
  [MsgType.RaftJoinRequest]: 'RaftJoinRequest',
  [MsgType.RaftJoinResponse]: 'RaftJoinResponse',
  [MsgType.LeaderEpochOffsetRequest]: 'LeaderEpochOffsetRequest',
  [MsgType.LeaderEpochOffsetResponse]: 'LeaderEpochOffsetResponse',
  [MsgType.PropagatedRequest]: 'PropagatedRequest',
  [MsgType.PropagatedResponse]: 'PropagatedResponse',
  [MsgType.ServerInfoRequest]: 'ServerInfoRequest',
  [MsgType.ServerInfoResponse]: 'ServerInfoResponse',
  [MsgType.PartitionStatusRequest]: 'PartitionStatusRequest',
  [MsgType.PartitionStatusResponse]: 'PartitionStatusResponse',
  [MsgType.PartitionNotification]: 'PartitionNotification',
});

/** The parsed internal.proto (shared, immutable). */
export const internalProtoRoot: () => protobuf.Root = lazy(() => loadProtoRoot('internal.proto'));

const internalCodecs = lazy((): ReadonlyMap<string, MessageCodec<InternalMessage>> => {
  const root = internalProtoRoot();
  const codecs = new Map<string, MessageCodec<InternalMessage>>();
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type) {
        codecs.set(nested.fullName.replace(/^\.protocol\./, ''), createMessageCodec(root, nested.fullName));
      }
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root.lookup('protocol') as protobuf.Namespace);
  return codecs;
});

export function internalCodec(name: InternalMessageName): MessageCodec<InternalMessage> {
  const codec = internalCodecs().get(name);
  if (codec === undefined) throw new Error(`internal.proto has no message ${name}`);
  return codec;
}

/** Encodes an internal message; throws ProtobufEncodeError on wrongly typed fields. */
export const encodeInternalMessage = (name: InternalMessageName, value: InternalMessage): Buffer =>
  internalCodec(name).encode(value);

/** Decodes an internal message; throws ProtobufDecodeError on malformed bytes. */
export const decodeInternalMessage = (name: InternalMessageName, bytes: Uint8Array): InternalMessage =>
  internalCodec(name).decode(bytes);
