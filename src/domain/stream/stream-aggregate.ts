import { err, ok, Result } from '../shared/result';
import { brokerLoads, selectLeader, selectReplicas } from '../partition/replica-assignment';
import { CreateStream, DeleteStream } from '../metadata/metadata-commands';
import { EntryScratch, writableStreams } from '../metadata/entry-scratch';
import { MetadataError } from '../metadata/metadata-errors';
import { PartitionCreated, StreamCreated, StreamDeleted } from '../metadata/metadata-events';
import { Decision, streamRef } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';
import { assert } from '../shared/assert';
import { streamConfigProblem } from './stream-config-rules';
import { internalStreamSubject, isValidSubject, RESERVED_STREAM_PREFIX, streamNameProblem } from './stream-names';
import { StreamState } from './stream-state';

/** Upper bound on partitions per stream (docs/reliability.md "Bad inputs", A5): each one is a NATS subscription and a directory. */
export const PARTITIONS_MAX = 4096;

/**
 * The Stream aggregate: a stream's own fields (name, subject, config, resumeAll), created with its
 * partitions in one entry and deleted with them. Its partitions are aggregates of their own
 * (partition-decide.ts).
 */
export function decideCreateStream(command: CreateStream, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const nameProblem = streamNameProblem(d.name);
  if (nameProblem) return err({ kind: 'InvalidStreamName', reason: nameProblem });
  // A reserved name is an internal stream, allowed only on its own subject under the namespace (docs/consumers.md).
  const internal = d.name.startsWith(RESERVED_STREAM_PREFIX);
  if (internal && d.subject !== internalStreamSubject(d.namespace, d.name)) return err({ kind: 'StreamNameReserved', stream: d.name });
  if (!isValidSubject(d.subject)) return err({ kind: 'InvalidSubject', subject: d.subject, reason: 'Subject is invalid' });
  const first = d.subject.split('.')[0];
  if (first === '>' || first === '*' || (first === d.namespace && !internal))
    return err({ kind: 'InvalidSubject', subject: d.subject, reason: `Subject may not capture the internal namespace "${d.namespace}"` });
  if (!Number.isSafeInteger(d.partitions) || d.partitions < 1 || d.partitions > PARTITIONS_MAX)
    return err({ kind: 'InvalidPartitionCount', partitions: d.partitions, max: PARTITIONS_MAX });
  // Only brokers the controller hears from get new replicas (Kafka places on live brokers too).
  const loads = brokerLoads(state, { reachableOnly: true });
  const clusterSize = loads.size;
  if (clusterSize === 0) return err({ kind: 'NoBrokers' });
  const rf = d.replicationFactor === -1 ? clusterSize : d.replicationFactor;
  if (!Number.isSafeInteger(rf) || rf < 1 || rf > clusterSize)
    return err({ kind: 'InvalidReplicationFactor', replicationFactor: d.replicationFactor, clusterSize });
  const configProblem = streamConfigProblem(d.config, rf);
  if (configProblem) return err({ kind: 'InvalidStreamConfig', ...configProblem });
  if (state.streams.has(d.name)) return err({ kind: 'StreamAlreadyExists', stream: d.name });

  // Every partition is placed against the same load snapshot (docs/cluster.md "Placement"), so they share replicas and leader.
  const replicas = selectReplicas(loads, rf);
  const leader = selectLeader(loads, replicas);
  const partitions: PartitionCreated[] = [];
  for (let id = 0; id < d.partitions; id++) {
    partitions.push({ type: 'PartitionCreated', data: { stream: d.name, partition: id, replicas, leader } });
  }
  const created: StreamCreated = {
    type: 'StreamCreated',
    data: {
      name: d.name,
      subject: d.subject,
      group: d.group,
      replicationFactor: rf,
      partitionCount: d.partitions,
      config: d.config,
      creationTimestampNs: d.creationTimestampNs,
    },
  };
  return ok({ events: [created, ...partitions], expectations: [{ aggregate: streamRef(d.name), version: 'absent' }] });
}

export function decideDeleteStream(command: DeleteStream, state: MetadataState): Result<Decision, MetadataError> {
  const stream = state.streams.get(command.data.name);
  if (!stream) return err({ kind: 'StreamNotFound', stream: command.data.name });
  return ok({
    events: [{ type: 'StreamDeleted', data: { name: stream.name } }],
    expectations: [{ aggregate: streamRef(stream.name), version: stream.version }],
  });
}

/** Folds StreamCreated (the stream, no partitions yet: each PartitionCreated adds one) or StreamDeleted. */
export function evolveStream(state: MetadataState, event: StreamCreated | StreamDeleted, index: number, scratch?: EntryScratch): MetadataState {
  const streams = writableStreams(state, scratch);
  if (event.type === 'StreamDeleted') {
    assert(streams.delete(event.data.name), `event refers to unknown stream ${event.data.name}`);
    return { ...state, streams };
  }
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
  streams.set(d.name, stream);
  return { ...state, streams };
}
