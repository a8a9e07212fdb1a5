import { MetadataEvent } from '../metadata/metadata-events';

/**
 * One event of the activity stream (`__activity`, docs/consumers.md "Activity stream"): what one
 * committed metadata entry did, in the vocabulary of Liftbridge's `ActivityStreamEvent`. `id` is the
 * entry's log index: unique and increasing, so a consumer that sees one twice (possible across a
 * controller failover) drops the second.
 */
export type ActivityEvent =
  | { readonly id: number; readonly op: 'CreateStream'; readonly stream: string; readonly partitions: readonly number[] }
  | { readonly id: number; readonly op: 'DeleteStream'; readonly stream: string }
  | { readonly id: number; readonly op: 'PauseStream'; readonly stream: string; readonly partitions: readonly number[]; readonly resumeAll: boolean }
  | { readonly id: number; readonly op: 'ResumeStream'; readonly stream: string; readonly partitions: readonly number[] }
  | { readonly id: number; readonly op: 'SetStreamReadonly'; readonly stream: string; readonly partitions: readonly number[]; readonly readonly: boolean }
  | { readonly id: number; readonly op: 'JoinConsumerGroup'; readonly groupId: string; readonly consumerId: string; readonly streams: readonly string[] }
  | { readonly id: number; readonly op: 'LeaveConsumerGroup'; readonly groupId: string; readonly consumerId: string; readonly expired: boolean };

/**
 * The activity event of one applied entry's events, or null when the entry is not one the activity
 * stream reports (broker registration and reachability, ISR and leader changes, controlled
 * shutdown, group coordinator changes, the activity stream's own progress). A group created with
 * its first member is reported as that member's join, as Liftbridge does. An entry records one command, so it holds at most one reported operation. The
 * partitions listed are those the entry changed: a command's partitions that were already in the
 * requested state record no event and are not listed (docs/compatibility.md).
 */
export function activityEventOf(events: readonly MetadataEvent[], index: number): ActivityEvent | null {
  const first = events.find((e) => REPORTED.has(e.type));
  if (first === undefined) return null;
  switch (first.type) {
    case 'StreamCreated':
      return { id: index, op: 'CreateStream', stream: first.data.name, partitions: partitionsOf(events, 'PartitionCreated') };
    case 'StreamDeleted':
      return { id: index, op: 'DeleteStream', stream: first.data.name };
    case 'PartitionPaused':
      return { id: index, op: 'PauseStream', stream: first.data.stream, partitions: partitionsOf(events, 'PartitionPaused'), resumeAll: first.data.resumeAll };
    case 'PartitionResumed':
      return { id: index, op: 'ResumeStream', stream: first.data.stream, partitions: partitionsOf(events, 'PartitionResumed') };
    case 'PartitionReadonlyChanged':
      return { id: index, op: 'SetStreamReadonly', stream: first.data.stream, partitions: partitionsOf(events, 'PartitionReadonlyChanged'), readonly: first.data.readonly };
    case 'ConsumerGroupCreated':
    case 'ConsumerGroupJoined':
      return { id: index, op: 'JoinConsumerGroup', groupId: first.data.group, consumerId: first.data.consumer, streams: first.data.streams };
    case 'ConsumerGroupLeft':
      return { id: index, op: 'LeaveConsumerGroup', groupId: first.data.group, consumerId: first.data.consumer, expired: first.data.expired };
    default:
      return null;
  }
}

const REPORTED: ReadonlySet<MetadataEvent['type']> = new Set<MetadataEvent['type']>([
  'StreamCreated',
  'StreamDeleted',
  'PartitionPaused',
  'PartitionResumed',
  'PartitionReadonlyChanged',
  'ConsumerGroupCreated',
  'ConsumerGroupJoined',
  'ConsumerGroupLeft',
]);

function partitionsOf(events: readonly MetadataEvent[], type: 'PartitionCreated' | 'PartitionPaused' | 'PartitionResumed' | 'PartitionReadonlyChanged'): number[] {
  const ids: number[] = [];
  for (const e of events) if (e.type === type) ids.push(e.data.partition);
  return ids;
}
