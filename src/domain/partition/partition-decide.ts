import { unreachable } from '../shared/assert';
import { err, ok, Result } from '../shared/result';
import { ChangeIsr, ChangePartitionLeader, PauseStream, ReportLeader, ResumeStream, SetStreamReadonly } from '../metadata/metadata-commands';
import { MetadataError } from '../metadata/metadata-errors';
import { MetadataEvent } from '../metadata/metadata-events';
import { Decision, Expectation, noDecision, partitionRef, streamRef } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';
import { StreamState } from '../stream/stream-state';
import { PartitionState } from './partition-state';
import { brokerLoads, selectLeader } from './replica-assignment';

/**
 * The Partition aggregate's decisions: one partition of one stream, versioned by its `epoch` (the
 * index of its latest change). Pause, resume and readonly name partitions of a stream and read the
 * stream's resumeAll, so they expect the stream and each partition they read.
 */
export function decidePartitionFlags(command: PauseStream | ResumeStream | SetStreamReadonly, state: MetadataState): Result<Decision, MetadataError> {
  const stream = state.streams.get(command.data.name);
  if (!stream) return err({ kind: 'StreamNotFound', stream: command.data.name });
  const ids = command.data.partitions.length > 0 ? command.data.partitions : stream.partitions.map((p) => p.id);
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || stream.partitions[id] === undefined)
      return err({ kind: 'PartitionNotFound', stream: stream.name, partition: id });
  }
  const unique = [...new Set(ids)];
  const events = unique.flatMap((id) => flagEvents(command, stream, id));
  if (events.length === 0) return ok(noDecision);
  const expectations: Expectation[] = [{ aggregate: streamRef(stream.name), version: stream.version }];
  for (const id of unique) expectations.push({ aggregate: partitionRef(stream.name, id), version: stream.partitions[id]!.epoch });
  return ok({ events, expectations });
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

const expectPartition = (p: PartitionState): Expectation => ({ aggregate: partitionRef(p.stream, p.id), version: p.epoch });

/**
 * docs/replication.md "ISR changes": only the current leader (same epoch) changes the ISR; the leader itself never leaves
 * it; a replica on an unreachable broker is not re-admitted.
 */
export function decideIsrChange(command: ChangeIsr, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const p = state.streams.get(d.stream)?.partitions[d.partition];
  if (!p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.leader || p.leaderEpoch !== d.leaderEpoch)
    return err({ kind: 'LeaderGenerationMismatch', stream: d.stream, partition: d.partition, leader: p.leader, leaderEpoch: p.leaderEpoch });
  if (!p.replicas.includes(d.replica) || d.replica === p.leader) return err({ kind: 'NotAReplica', stream: d.stream, partition: d.partition, replica: d.replica });
  const inIsr = p.isr.includes(d.replica);
  const shrink = command.type === 'ShrinkIsr';
  if (shrink !== inIsr) return ok(noDecision);
  // A broker shutting down (or silent) gets no ISR place back from a late fetch (Kafka KIP-841).
  if (!shrink && state.brokers.get(d.replica)?.reachable !== true) return err({ kind: 'BrokerUnreachable', broker: d.replica });
  const data = { stream: d.stream, partition: d.partition, replica: d.replica };
  return ok({ events: [shrink ? { type: 'IsrShrunk', data } : { type: 'IsrExpanded', data }], expectations: [expectPartition(p)] });
}

/**
 * docs/replication.md "Failover": the new leader is an in-sync replica other than the failed one, on a reachable broker,
 * least leader-loaded first; never a replica outside the ISR (no unclean election). Nothing to do
 * when the leader already changed.
 */
export function decideLeaderChange(command: ChangePartitionLeader, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const p = state.streams.get(d.stream)?.partitions[d.partition];
  if (!p) return err({ kind: 'PartitionNotFound', stream: d.stream, partition: d.partition });
  if (p.leader !== d.failedLeader) return ok(noDecision);
  const candidates = p.isr.filter((r) => r !== d.failedLeader && state.brokers.get(r)?.reachable === true);
  if (candidates.length === 0) return err({ kind: 'NoIsrCandidates', stream: d.stream, partition: d.partition });
  return ok({ events: [leaderChangedAway(p, selectLeader(brokerLoads(state), candidates))], expectations: [expectPartition(p)] });
}

/**
 * docs/replication.md "Failover": a report counts only against the leader and epoch it names (else
 * LeaderGenerationMismatch), and only from an in-sync follower of the partition: a replica out of
 * the ISR may itself be the one cut off. Judged here, counted by the controller: a report records nothing.
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
export const leaderChangedAway = (p: PartitionState, leader: string): MetadataEvent => ({
  type: 'PartitionLeaderChanged',
  data: { stream: p.stream, partition: p.id, leader, isr: p.isr.filter((r) => r !== p.leader) },
});
