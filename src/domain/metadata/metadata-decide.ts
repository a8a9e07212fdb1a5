import { unreachable } from '../shared/assert';
import { err, ok, Result } from '../shared/result';
import { brokerLoads, selectLeader, selectReplicas } from '../partition/replica-assignment';
import { streamConfigProblem } from '../stream/stream-config-rules';
import { isValidSubject, RESERVED_STREAM_PREFIX, streamNameProblem } from '../stream/stream-names';
import { StreamState } from '../stream/stream-state';
import { ChangeIsr, ChangePartitionLeader, CreateStream, ReportLeader, MetadataCommand, PauseStream, ResumeStream, SetStreamReadonly, VacateBroker } from './metadata-commands';
import { MetadataError } from './metadata-errors';
import { MetadataEvent, PartitionCreated } from './metadata-events';
import { PartitionState } from '../partition/partition-state';
import { brokerAggregate, Decision, streamAggregate } from './metadata-proposal';
import { MetadataState } from './metadata-state';

/** Upper bound on partitions per stream (docs/reliability.md "Bad inputs", A5): each one is a NATS subscription and a directory. */
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
    case 'ReportLeader': {
      // Judged here, counted by the controller (`PartitionFailover`): a report records nothing.
      const checked = checkLeaderReport(command, state);
      return checked.ok ? ok({ events: [], expectations: [] }) : checked;
    }
    case 'VacateBroker':
      return decideVacate(command, state);
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

  // Every partition is placed against the same load snapshot (docs/cluster.md "Placement"), so they share replicas and leader.
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

/**
 * docs/replication.md "ISR changes": only the current leader (same epoch) changes the ISR; the leader itself never leaves
 * it; a replica on an unreachable broker is not re-admitted.
 */
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
  // A broker shutting down (or silent) gets no ISR place back from a late fetch (Kafka KIP-841).
  if (!shrink && state.brokers.get(d.replica)?.reachable !== true) return err({ kind: 'BrokerUnreachable', broker: d.replica });
  const data = { stream: d.stream, partition: d.partition, replica: d.replica };
  return ok({
    events: [shrink ? { type: 'IsrShrunk', data } : { type: 'IsrExpanded', data }],
    expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
  });
}

/**
 * docs/replication.md "Failover": the new leader is an in-sync replica other than the failed one, on a reachable broker,
 * least leader-loaded first; never a replica outside the ISR (no unclean election). Nothing to do
 * when the leader already changed.
 */
function decideLeaderChange(command: ChangePartitionLeader, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const stream = state.streams.get(d.stream);
  const p = stream?.partitions[d.partition];
  if (!stream || !p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.failedLeader) return ok({ events: [], expectations: [] });
  const candidates = p.isr.filter((r) => r !== d.failedLeader && state.brokers.get(r)?.reachable === true);
  if (candidates.length === 0) return err({ kind: 'NoIsrCandidates', stream: d.stream, partition: d.partition });
  return ok({
    events: [leaderChangedAway(p, selectLeader(brokerLoads(state), candidates))],
    expectations: [{ aggregate: streamAggregate(stream.name), version: stream.version }],
  });
}

/**
 * docs/replication.md "Failover": a report counts only against the leader and epoch it names (else
 * LeaderGenerationMismatch), and only from an in-sync follower of the partition: a replica out of
 * the ISR may itself be the one cut off.
 */
export function checkLeaderReport(command: ReportLeader, state: MetadataState): Result<PartitionState, MetadataError> {
  const d = command.data;
  const p = state.streams.get(d.stream)?.partitions[d.partition];
  if (!p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.leader || p.leaderEpoch !== d.leaderEpoch)
    return err({ kind: 'LeaderGenerationMismatch', stream: d.stream, partition: d.partition, leader: p.leader, leaderEpoch: p.leaderEpoch });
  if (d.replica === p.leader || !p.isr.includes(d.replica)) return err({ kind: 'NotAReplica', stream: d.stream, partition: d.partition, replica: d.replica });
  return ok(p);
}

/** `leader` replaces the partition's leader, which leaves the ISR (Kafka's controller does the same). */
const leaderChangedAway = (p: PartitionState, leader: string): MetadataEvent => ({
  type: 'PartitionLeaderChanged',
  data: { stream: p.stream, partition: p.id, leader, isr: p.isr.filter((r) => r !== p.leader) },
});

/**
 * Controlled shutdown (docs/cluster.md): the broker leaves placement, its leaderships and its ISR
 * memberships in one entry. Items of an epoch that is over, or that cannot move, are skipped.
 */
function decideVacate(command: VacateBroker, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const broker = state.brokers.get(d.broker);
  if (!broker) return ok({ events: [], expectations: [] });
  const events: MetadataEvent[] = [];
  const touched = new Map<string, StreamState>();
  if (broker.reachable) events.push({ type: 'BrokerReachabilityChanged', data: { id: broker.id, reachable: false, atNs: d.atNs } });
  const partitionAt = (ref: { stream: string; partition: number; leaderEpoch: number }): { stream: StreamState; p: PartitionState } | null => {
    const stream = state.streams.get(ref.stream);
    const p = stream?.partitions[ref.partition];
    return stream && p && p.leaderEpoch === ref.leaderEpoch && !p.paused ? { stream, p } : null;
  };
  // New leaders spread by leader load, counting the ones chosen so far.
  const loads = brokerLoads(state);
  for (const ref of d.leads) {
    const found = partitionAt(ref);
    if (!found || found.p.leader !== broker.id) continue;
    const candidates = found.p.isr.filter((r) => r !== broker.id && state.brokers.get(r)?.reachable === true);
    if (candidates.length === 0) continue;
    const leader = selectLeader(loads, candidates);
    loads.get(leader)!.leaders++;
    events.push(leaderChangedAway(found.p, leader));
    touched.set(found.stream.name, found.stream);
  }
  for (const ref of d.follows) {
    const found = partitionAt(ref);
    if (!found || found.p.leader === broker.id || !found.p.isr.includes(broker.id) || found.p.isr.length - 1 < ref.isrSizeMin) continue;
    events.push({ type: 'IsrShrunk', data: { stream: ref.stream, partition: ref.partition, replica: broker.id } });
    touched.set(found.stream.name, found.stream);
  }
  const expectations = [...touched.values()].map((s) => ({ aggregate: streamAggregate(s.name), version: s.version }));
  return ok({ events, expectations: events.length > 0 ? [{ aggregate: brokerAggregate(broker.id), version: 0 }, ...expectations] : [] });
}
