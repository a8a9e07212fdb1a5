import { assert, unreachable } from '../shared/assert';
import { NEVER, PartitionState, touch } from '../partition/partition-state';
import { StreamState } from '../stream/stream-state';
import { MetadataEvent } from './metadata-events';
import { MetadataState } from './metadata-state';

/**
 * Folds one event into the state. Pure and total over valid histories: `decide` only emits events
 * that apply cleanly, so a failing assertion here means a corrupt log or a bug, not a user error.
 * `index` is the metadata log index of the entry carrying the event; it becomes the epoch of what
 * the event touches (Liftbridge sets leaderEpoch = epoch = Raft index the same way).
 */
export function evolve(state: MetadataState, event: MetadataEvent, index: number): MetadataState {
  switch (event.type) {
    case 'BrokerRegistered': {
      const brokers = new Map(state.brokers);
      // (Re-)registering means the broker is running, so it is reachable.
      brokers.set(event.data.id, { ...event.data, reachable: true });
      return { ...state, brokers };
    }
    case 'BrokerReachabilityChanged': {
      const broker = state.brokers.get(event.data.id);
      assert(broker !== undefined, `event refers to unknown broker ${event.data.id}`);
      const brokers = new Map(state.brokers);
      brokers.set(broker.id, { ...broker, reachable: event.data.reachable });
      return { ...state, brokers };
    }
    case 'StreamCreated': {
      const d = event.data;
      assert(!state.streams.has(d.name), `stream ${d.name} created twice`);
      const stream: StreamState = {
        name: d.name,
        subject: d.subject,
        group: d.group,
        replicationFactor: d.replicationFactor,
        config: d.config,
        creationTimestampNs: d.creationTimestampNs,
        partitions: [],
        resumeAll: false,
        version: index,
      };
      return withStream(state, stream);
    }
    case 'PartitionCreated': {
      const d = event.data;
      const stream = requireStream(state, d.stream);
      assert(d.partition === stream.partitions.length, `partition ${d.stream}/${d.partition} created out of order`);
      const partition: PartitionState = {
        stream: d.stream,
        id: d.partition,
        subject: stream.subject,
        group: stream.group,
        replicationFactor: d.replicas.length,
        replicas: [...d.replicas],
        isr: [...d.replicas],
        leader: d.leader,
        leaderEpoch: index,
        epoch: index,
        paused: false,
        readonly: false,
        pauseTimestamps: NEVER,
        readonlyTimestamps: NEVER,
      };
      return withStream(state, { ...stream, partitions: [...stream.partitions, partition], version: index });
    }
    case 'StreamDeleted': {
      requireStream(state, event.data.name);
      const streams = new Map(state.streams);
      streams.delete(event.data.name);
      return { ...state, streams };
    }
    case 'PartitionPaused': {
      const d = event.data;
      return updatePartition(state, d.stream, d.partition, index, (p) => ({
        ...p,
        paused: true,
        pauseTimestamps: touch(p.pauseTimestamps, d.atNs),
      }), d.resumeAll);
    }
    case 'PartitionResumed': {
      const d = event.data;
      return updatePartition(state, d.stream, d.partition, index, (p) => ({
        ...p,
        paused: false,
        pauseTimestamps: touch(p.pauseTimestamps, d.atNs),
      }), false);
    }
    case 'PartitionReadonlyChanged': {
      const d = event.data;
      return updatePartition(state, d.stream, d.partition, index, (p) => ({
        ...p,
        readonly: d.readonly,
        readonlyTimestamps: touch(p.readonlyTimestamps, d.atNs),
      }));
    }
    case 'IsrShrunk': {
      const d = event.data;
      return updatePartition(state, d.stream, d.partition, index, (p) => ({ ...p, isr: p.isr.filter((r) => r !== d.replica) }));
    }
    case 'IsrExpanded': {
      const d = event.data;
      // Kept in replica order, so every server lists the ISR the same way.
      return updatePartition(state, d.stream, d.partition, index, (p) => ({ ...p, isr: p.replicas.filter((r) => r === d.replica || p.isr.includes(r)) }));
    }
    case 'PartitionLeaderChanged': {
      const d = event.data;
      return updatePartition(state, d.stream, d.partition, index, (p) => ({ ...p, leader: d.leader, isr: [...d.isr], leaderEpoch: index }));
    }
    default:
      return unreachable(event);
  }
}

function requireStream(state: MetadataState, name: string): StreamState {
  const stream = state.streams.get(name);
  assert(stream !== undefined, `event refers to unknown stream ${name}`);
  return stream;
}

function withStream(state: MetadataState, stream: StreamState): MetadataState {
  const streams = new Map(state.streams);
  streams.set(stream.name, stream);
  return { ...state, streams };
}

function updatePartition(
  state: MetadataState,
  streamName: string,
  id: number,
  index: number,
  change: (p: PartitionState) => PartitionState,
  resumeAll?: boolean,
): MetadataState {
  const stream = requireStream(state, streamName);
  const partition = stream.partitions[id];
  assert(partition !== undefined, `event refers to unknown partition ${streamName}/${id}`);
  const partitions = stream.partitions.slice();
  partitions[id] = { ...change(partition), epoch: index };
  return withStream(state, {
    ...stream,
    partitions,
    resumeAll: resumeAll ?? stream.resumeAll,
    version: index,
  });
}
