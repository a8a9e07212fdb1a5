import { unreachable } from '../shared/assert';
import { err, ok, Result } from '../shared/result';
import { brokerLoads, selectLeader, selectReplicas } from '../partition/replica-assignment';
import { streamConfigProblem } from '../stream/stream-config-rules';
import { isValidSubject, RESERVED_STREAM_PREFIX, streamNameProblem } from '../stream/stream-names';
import { StreamState } from '../stream/stream-state';
import { ChangeIsr, ChangePartitionLeader, CreateStream, LeaveIsr, MetadataCommand, PauseStream, ResignPartitionLeader, ResumeStream, SetStreamReadonly } from './metadata-commands';
import { MetadataError } from './metadata-errors';
import { MetadataEvent, PartitionCreated } from './metadata-events';
import { PartitionState } from '../partition/partition-state';
import { brokerAggregate, Decision, streamAggregate } from './metadata-proposal';
import { MetadataState } from './metadata-state';

/** Upper bound on partitions per stream (reliability plan A5): each one is a NATS subscription and a directory. */
export const PARTITIONS_MAX = 4096;

/** Decides a command against the applied state: the events to record, or why not. Pure. */
export function decide(command: MetadataCommand, state: MetadataState): Result<Decision, MetadataError> {
  switch (command.type) {
    case 'RegisterBroker': {
      const { id } = command.data;
      const known = state.brokers.get(id);
      const same = known && known.reachable && known.host === command.data.host && known.port === command.data.port;
      const events: MetadataEvent[] = same ? [] : [{ type: 'BrokerRegistered', data: { ...command.data } }];
      // Registration is last-writer-wins: a broker re-registering with a new address simply replaces it.
      return ok({ events, expectations: [] });
    }
    case 'SetBrokerReachable': {
      const known = state.brokers.get(command.data.id);
      if (!known || known.reachable === command.data.reachable) return ok({ events: [], expectations: [] });
      return ok({
        events: [{ type: 'BrokerReachabilityChanged', data: { ...command.data } }],
        expectations: [{ aggregate: brokerAggregate(known.id), version: 0 }],
      });
    }
    case 'CreateStream':
      return decideCreateStream(command, state);
    case 'DeleteStream': {
      const stream = state.streams.get(command.data.name);
      if (!stream) return err({ kind: 'StreamNotFound', stream: command.data.name });
      return ok({
        events: [{ type: 'StreamDeleted', data: { name: stream.name } }],
        expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
      });
    }
    case 'PauseStream':
    case 'ResumeStream':
    case 'SetStreamReadonly':
      return decidePartitionFlags(command, state);
    case 'ShrinkIsr':
    case 'ExpandIsr':
      return decideIsrChange(command, state);
    case 'ChangePartitionLeader':
      return decideLeaderChange(command, state);
    case 'ResignPartitionLeader':
      return decideResignation(command, state);
    case 'LeaveIsr':
      return decideLeaveIsr(command, state);
    default:
      return unreachable(command);
  }
}

function decideCreateStream(command: CreateStream, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const nameProblem = streamNameProblem(d.name);
  if (nameProblem) return err({ kind: 'InvalidStreamName', reason: nameProblem });
  if (d.name.startsWith(RESERVED_STREAM_PREFIX)) return err({ kind: 'StreamNameReserved', stream: d.name });
  if (!isValidSubject(d.subject)) return err({ kind: 'InvalidSubject', subject: d.subject, reason: 'Subject is invalid' });
  const first = d.subject.split('.')[0];
  if (first === '>' || first === '*' || first === d.namespace)
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

  // Every partition is placed against the same load snapshot (spec §6.6), so they share replicas and leader.
  const replicas = selectReplicas(loads, rf);
  const leader = selectLeader(loads, replicas);
  const partitions: PartitionCreated[] = [];
  for (let id = 0; id < d.partitions; id++) {
    partitions.push({ type: 'PartitionCreated', data: { stream: d.name, partition: id, replicas, leader } });
  }
  return ok({
    events: [
      {
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
      },
      ...partitions,
    ],
    expectations: [{ aggregate: streamAggregate(d.name), version: 'absent' }],
  });
}

function decidePartitionFlags(
  command: PauseStream | ResumeStream | SetStreamReadonly,
  state: MetadataState,
): Result<Decision, MetadataError> {
  const stream = state.streams.get(command.data.name);
  if (!stream) return err({ kind: 'StreamNotFound', stream: command.data.name });
  const ids = command.data.partitions.length > 0 ? command.data.partitions : stream.partitions.map((p) => p.id);
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || stream.partitions[id] === undefined)
      return err({ kind: 'PartitionNotFound', stream: stream.name, partition: id });
  }
  const events = [...new Set(ids)].flatMap((id) => flagEvents(command, stream, id));
  return ok({ events, expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }] });
}

/** Idempotent: a partition already in the requested state produces no event (pause also re-records resumeAll). */
function flagEvents(command: PauseStream | ResumeStream | SetStreamReadonly, stream: StreamState, id: number): MetadataEvent[] {
  const p = stream.partitions[id]!;
  const at = command.data.atNs;
  switch (command.type) {
    case 'PauseStream':
      return p.paused && stream.resumeAll === command.data.resumeAll
        ? []
        : [{ type: 'PartitionPaused', data: { stream: stream.name, partition: id, resumeAll: command.data.resumeAll, atNs: at } }];
    case 'ResumeStream':
      return p.paused ? [{ type: 'PartitionResumed', data: { stream: stream.name, partition: id, atNs: at } }] : [];
    case 'SetStreamReadonly':
      return p.readonly === command.data.readonly
        ? []
        : [{ type: 'PartitionReadonlyChanged', data: { stream: stream.name, partition: id, readonly: command.data.readonly, atNs: at } }];
    default:
      return unreachable(command);
  }
}

/** Spec §5.9: only the current leader (same epoch) changes the ISR; the leader itself never leaves it. */
function decideIsrChange(command: ChangeIsr, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const stream = state.streams.get(d.stream);
  const p = stream?.partitions[d.partition];
  if (!stream || !p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.leader || p.leaderEpoch !== d.leaderEpoch)
    return err({ kind: 'LeaderGenerationMismatch', stream: d.stream, partition: d.partition, leader: p.leader, leaderEpoch: p.leaderEpoch });
  if (!p.replicas.includes(d.replica) || d.replica === p.leader) return err({ kind: 'NotAReplica', stream: d.stream, partition: d.partition, replica: d.replica });
  const inIsr = p.isr.includes(d.replica);
  const shrink = command.type === 'ShrinkIsr';
  if (shrink !== inIsr) return ok({ events: [], expectations: [] });
  const data = { stream: d.stream, partition: d.partition, replica: d.replica };
  return ok({
    events: [shrink ? { type: 'IsrShrunk', data } : { type: 'IsrExpanded', data }],
    expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
  });
}

/**
 * Spec §5.8: the new leader is an in-sync replica other than the failed one, on a reachable broker,
 * least leader-loaded first; never a replica outside the ISR (no unclean election). Nothing to do
 * when the leader already changed.
 */
function decideLeaderChange(command: ChangePartitionLeader, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const stream = state.streams.get(d.stream);
  const p = stream?.partitions[d.partition];
  if (!stream || !p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.failedLeader) return ok({ events: [], expectations: [] });
  return leaderMovedAway(state, stream, p);
}

/**
 * Controlled shutdown: the leader of epoch `leaderEpoch` hands over as a failed leader would be
 * replaced (an in-sync replica on a reachable broker; it leaves the ISR). A request for an epoch
 * that is over is refused, so leadership never moves twice for one request.
 */
function decideResignation(command: ResignPartitionLeader, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const stream = state.streams.get(d.stream);
  const p = stream?.partitions[d.partition];
  if (!stream || !p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.leader || p.leaderEpoch !== d.leaderEpoch)
    return err({ kind: 'LeaderGenerationMismatch', stream: d.stream, partition: d.partition, leader: p.leader, leaderEpoch: p.leaderEpoch });
  return leaderMovedAway(state, stream, p);
}

/** The current leader gives way to the least leader-loaded reachable ISR member and leaves the ISR. */
function leaderMovedAway(state: MetadataState, stream: StreamState, p: PartitionState): Result<Decision, MetadataError> {
  const outgoing = p.leader;
  const candidates = p.isr.filter((r) => r !== outgoing && state.brokers.get(r)?.reachable === true);
  if (candidates.length === 0) return err({ kind: 'NoIsrCandidates', stream: p.stream, partition: p.id });
  const leader = selectLeader(brokerLoads(state), candidates);
  return ok({
    events: [{ type: 'PartitionLeaderChanged', data: { stream: p.stream, partition: p.id, leader, isr: p.isr.filter((r) => r !== outgoing) } }],
    expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
  });
}

/**
 * Controlled shutdown: a follower of epoch `leaderEpoch` leaves the ISR (Kafka removes a broker
 * shutting down from every ISR), unless fewer than `isrSizeMin` members would remain: then it
 * stays, a candidate should the leader fail while it is away.
 */
function decideLeaveIsr(command: LeaveIsr, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const stream = state.streams.get(d.stream);
  const p = stream?.partitions[d.partition];
  if (!stream || !p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leaderEpoch !== d.leaderEpoch)
    return err({ kind: 'LeaderGenerationMismatch', stream: d.stream, partition: d.partition, leader: p.leader, leaderEpoch: p.leaderEpoch });
  if (!p.replicas.includes(d.replica) || d.replica === p.leader) return err({ kind: 'NotAReplica', stream: d.stream, partition: d.partition, replica: d.replica });
  if (!p.isr.includes(d.replica)) return ok({ events: [], expectations: [] });
  if (p.isr.length - 1 < d.isrSizeMin) return err({ kind: 'IsrAtMinimum', stream: d.stream, partition: d.partition, isrSizeMin: d.isrSizeMin });
  return ok({
    events: [{ type: 'IsrShrunk', data: { stream: d.stream, partition: d.partition, replica: d.replica } }],
    expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
  });
}
