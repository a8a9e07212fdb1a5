import { assert, unreachable } from '../shared/assert';
import { MetadataEvent } from '../metadata/metadata-events';
import { EntryScratch, writableStreams } from '../metadata/entry-scratch';
import { MetadataState } from '../metadata/metadata-state';
import { StreamState } from '../stream/stream-state';
import { NEVER, PartitionState, touch } from './partition-state';

export type PartitionEvent = Extract<
  MetadataEvent,
  { type: 'PartitionCreated' | 'PartitionPaused' | 'PartitionResumed' | 'PartitionReadonlyChanged' | 'IsrShrunk' | 'IsrExpanded' | 'PartitionLeaderChanged' }
>;

const PARTITION_EVENTS: ReadonlySet<MetadataEvent['type']> = new Set<PartitionEvent['type']>([
  'PartitionCreated', 'PartitionPaused', 'PartitionResumed', 'PartitionReadonlyChanged', 'IsrShrunk', 'IsrExpanded', 'PartitionLeaderChanged',
]);

export const isPartitionEvent = (event: MetadataEvent): event is PartitionEvent => PARTITION_EVENTS.has(event.type);

/**
 * Folds a Partition event. `index`, the log index of the entry, becomes the partition's `epoch`
 * (its version) and, for a new leader, its `leaderEpoch` (Liftbridge sets both from the Raft index
 * the same way). The stream's version moves only when its own resumeAll changes.
 */
export function evolvePartition(state: MetadataState, event: PartitionEvent, index: number, scratch?: EntryScratch): MetadataState {
  const d = event.data;
  switch (event.type) {
    case 'PartitionCreated': {
      const stream = requireStream(state, event.data.stream);
      assert(event.data.partition === stream.partitions.length, `partition ${event.data.stream}/${event.data.partition} created out of order`);
      const partition: PartitionState = {
        stream: stream.name,
        id: event.data.partition,
        subject: stream.subject,
        group: stream.group,
        replicationFactor: event.data.replicas.length,
        replicas: [...event.data.replicas],
        isr: [...event.data.replicas],
        leader: event.data.leader,
        leaderEpoch: index,
        epoch: index,
        paused: false,
        readonly: false,
        pauseTimestamps: NEVER,
        readonlyTimestamps: NEVER,
      };
      return withStream(state, { ...stream, partitions: [...stream.partitions, partition] }, scratch);
    }
    case 'PartitionPaused':
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, paused: true, pauseTimestamps: touch(p.pauseTimestamps, event.data.atNs) }), event.data.resumeAll, scratch);
    case 'PartitionResumed':
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, paused: false, pauseTimestamps: touch(p.pauseTimestamps, event.data.atNs) }), false, scratch);
    case 'PartitionReadonlyChanged':
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, readonly: event.data.readonly, readonlyTimestamps: touch(p.readonlyTimestamps, event.data.atNs) }), undefined, scratch);
    case 'IsrShrunk':
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, isr: p.isr.filter((r) => r !== event.data.replica) }), undefined, scratch);
    case 'IsrExpanded':
      // Kept in replica order, so every server lists the ISR the same way.
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, isr: p.replicas.filter((r) => r === event.data.replica || p.isr.includes(r)) }), undefined, scratch);
    case 'PartitionLeaderChanged':
      return update(state, d.stream, d.partition, index, (p) => ({ ...p, leader: event.data.leader, isr: [...event.data.isr], leaderEpoch: index }), undefined, scratch);
    default:
      return unreachable(event);
  }
}

function requireStream(state: MetadataState, name: string): StreamState {
  const stream = state.streams.get(name);
  assert(stream !== undefined, `event refers to unknown stream ${name}`);
  return stream;
}

function withStream(state: MetadataState, stream: StreamState, scratch: EntryScratch | undefined): MetadataState {
  const streams = writableStreams(state, scratch);
  streams.set(stream.name, stream);
  return { ...state, streams };
}

function update(
  state: MetadataState,
  streamName: string,
  id: number,
  index: number,
  change: (p: PartitionState) => PartitionState,
  resumeAll: boolean | undefined,
  scratch: EntryScratch | undefined,
): MetadataState {
  const stream = requireStream(state, streamName);
  const partition = stream.partitions[id];
  assert(partition !== undefined, `event refers to unknown partition ${streamName}/${id}`);
  const partitions = stream.partitions.slice();
  partitions[id] = { ...change(partition), epoch: index };
  const resumeAllChanged = resumeAll !== undefined && resumeAll !== stream.resumeAll;
  return withStream(
    state,
    {
      ...stream,
      partitions,
      ...(resumeAllChanged ? { resumeAll, version: index } : {}),
    },
    scratch,
  );
}
