/**
 * One line per activity event for `liftbridge activity` (docs/consumers.md "Activity stream"): the
 * event's id, its op, and the op's own fields, as text or as one flat JSON object.
 */
import { ActivityStreamOp, type ActivityStreamEvent } from '../../../protocol/api-types';
import { formatNs, toJson } from './admin-common';

/** The fields of one op, in the order they are printed. */
export type ActivityFields = Readonly<Record<string, string | boolean | readonly number[] | readonly string[]>>;

/** The op's name as in proto/api.proto, or `OP_<n>` for one added after this version (proto3 enums are open). */
export function activityOpName(op: ActivityStreamOp): string {
  return ActivityStreamOp[op] ?? `OP_${op}`;
}

/** The fields of the op the event carries (empty when its sub-message is missing or unknown). */
export function activityFields(event: ActivityStreamEvent): ActivityFields {
  switch (event.op) {
    case ActivityStreamOp.CREATE_STREAM: {
      const op = event.createStreamOp;
      return op ? { stream: op.stream, partitions: op.partitions } : {};
    }
    case ActivityStreamOp.DELETE_STREAM: {
      const op = event.deleteStreamOp;
      return op ? { stream: op.stream } : {};
    }
    case ActivityStreamOp.PAUSE_STREAM: {
      const op = event.pauseStreamOp;
      return op ? { stream: op.stream, partitions: op.partitions, resumeAll: op.resumeAll } : {};
    }
    case ActivityStreamOp.RESUME_STREAM: {
      const op = event.resumeStreamOp;
      return op ? { stream: op.stream, partitions: op.partitions } : {};
    }
    case ActivityStreamOp.SET_STREAM_READONLY: {
      const op = event.setStreamReadonlyOp;
      return op ? { stream: op.stream, partitions: op.partitions, readonly: op.readonly } : {};
    }
    case ActivityStreamOp.JOIN_CONSUMER_GROUP: {
      const op = event.joinConsumerGroupOp;
      return op ? { group: op.groupId, consumer: op.consumerId, streams: op.streams } : {};
    }
    case ActivityStreamOp.LEAVE_CONSUMER_GROUP: {
      const op = event.leaveConsumerGroupOp;
      return op ? { group: op.groupId, consumer: op.consumerId, expired: op.expired } : {};
    }
    default:
      return {};
  }
}

/** A value as `name=value` text: lists comma separated; quoted (JSON) when empty or ambiguous. */
function textValue(value: ActivityFields[string]): string {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** Where an event was read: its offset in `__activity` and the record's time. */
export interface ActivityRecordPosition {
  readonly offset: bigint;
  /** Unix nanoseconds. */
  readonly timestamp: bigint;
}

/**
 * `id<TAB>time<TAB>OP<TAB>name=value ...`, or with `json` one object:
 * `{"id","offset","timestamp","time","op", ...the op's fields}`.
 */
export function formatActivityEvent(event: ActivityStreamEvent, record: ActivityRecordPosition, json: boolean): string {
  const fields = activityFields(event);
  const op = activityOpName(event.op);
  if (json) return toJson({ id: event.id, offset: record.offset, timestamp: record.timestamp, time: formatNs(record.timestamp), op, ...fields });
  const text = Object.entries(fields)
    .map(([name, value]) => `${name}=${textValue(value)}`)
    .join(' ');
  return `${event.id}\t${formatNs(record.timestamp)}\t${op}\t${text}`;
}
