import type { ActivityEncoder } from '../../application/ports/activity-encoder.port';
import type { ActivityEvent } from '../../domain/activity/activity-event';
import { encodeActivityStreamEvent } from '../../protocol/api-proto';

/** Liftbridge's ActivityStreamOp numbers (proto/api.proto). */
const OP = { CreateStream: 0, DeleteStream: 1, PauseStream: 2, ResumeStream: 3, SetStreamReadonly: 4, JoinConsumerGroup: 5, LeaveConsumerGroup: 6 } as const;

/** `ActivityStreamEvent` protobuf: the id, the op, and the one op message that goes with it. */
export class ProtobufActivityEncoder implements ActivityEncoder {
  encode(event: ActivityEvent): Uint8Array {
    const head = { id: BigInt(event.id), op: OP[event.op] };
    switch (event.op) {
      case 'CreateStream':
        return encodeActivityStreamEvent({ ...head, createStreamOp: { stream: event.stream, partitions: [...event.partitions] } });
      case 'DeleteStream':
        return encodeActivityStreamEvent({ ...head, deleteStreamOp: { stream: event.stream } });
      case 'PauseStream':
        return encodeActivityStreamEvent({ ...head, pauseStreamOp: { stream: event.stream, partitions: [...event.partitions], resumeAll: event.resumeAll } });
      case 'ResumeStream':
        return encodeActivityStreamEvent({ ...head, resumeStreamOp: { stream: event.stream, partitions: [...event.partitions] } });
      case 'SetStreamReadonly':
        return encodeActivityStreamEvent({ ...head, setStreamReadonlyOp: { stream: event.stream, partitions: [...event.partitions], readonly: event.readonly } });
      case 'JoinConsumerGroup':
        return encodeActivityStreamEvent({ ...head, joinConsumerGroupOp: { groupId: event.groupId, consumerId: event.consumerId, streams: [...event.streams] } });
      case 'LeaveConsumerGroup':
        return encodeActivityStreamEvent({ ...head, leaveConsumerGroupOp: { groupId: event.groupId, consumerId: event.consumerId, expired: event.expired } });
    }
  }
}
