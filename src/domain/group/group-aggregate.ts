import { err, ok, Result } from '../shared/result';
import { ChangeGroupCoordinator, JoinConsumerGroup, LeaveConsumerGroup, ReportGroupCoordinator } from '../metadata/metadata-commands';
import { MetadataError } from '../metadata/metadata-errors';
import { Decision, Expectation, groupRef, streamRef } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';
import { sortedStreams } from './assignment';
import { selectCoordinator } from './group-coordinator';
import { findMember, GroupState } from './group-state';

/**
 * The ConsumerGroup aggregate (docs/consumers.md "Consumer groups"): members and the streams they
 * consume, a coordinator and an epoch that is also its version. Every decision expects the group's
 * version it read, so two changes decided on the same group never both apply: the later one is
 * rejected and decided again.
 */
export function decideJoinGroup(command: JoinConsumerGroup, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const missing = missingField(d.group, d.consumer);
  if (missing) return missing;
  if (d.streams.length === 0) return err({ kind: 'MissingGroupField', field: 'streams' });
  const group = state.groups.get(d.group);
  if (group && findMember(group, d.consumer)) return err({ kind: 'ConsumerAlreadyMember', group: d.group, consumer: d.consumer });
  const streams = sortedStreams(d.streams);
  // Each stream's version is expected too: a stream deleted before this entry applies rejects it.
  const expectations: Expectation[] = [{ aggregate: groupRef(d.group), version: group ? group.epoch : 'absent' }];
  for (const name of streams) {
    const stream = state.streams.get(name);
    if (!stream) return err({ kind: 'StreamNotFound', stream: name });
    expectations.push({ aggregate: streamRef(name), version: stream.version });
  }
  if (group) return ok({ events: [{ type: 'ConsumerGroupJoined', data: { group: d.group, consumer: d.consumer, streams } }], expectations });
  const coordinator = selectCoordinator(state);
  if (coordinator === undefined) return err({ kind: 'NoBrokers' });
  return ok({ events: [{ type: 'ConsumerGroupCreated', data: { group: d.group, coordinator, consumer: d.consumer, streams } }], expectations });
}

export function decideLeaveGroup(command: LeaveConsumerGroup, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const missing = missingField(d.group, d.consumer);
  if (missing) return missing;
  const group = state.groups.get(d.group);
  if (!group) return err({ kind: 'ConsumerGroupNotFound', group: d.group });
  if (!findMember(group, d.consumer)) return err({ kind: 'ConsumerNotMember', group: d.group, consumer: d.consumer });
  if (d.epoch !== undefined && d.epoch !== group.epoch) return err({ kind: 'GroupEpochMismatch', group: d.group });
  return ok({
    events: [{ type: 'ConsumerGroupLeft', data: { group: d.group, consumer: d.consumer, expired: d.expired } }],
    expectations: [{ aggregate: groupRef(d.group), version: group.epoch }],
  });
}

/**
 * Whether a member's report that the coordinator is silent counts (docs/consumers.md "Coordinator
 * failover"): the group exists, the report names its current coordinator and epoch, and the
 * reporter is a member. Returns the group, whose member count the witness rule needs.
 */
export function checkCoordinatorReport(command: ReportGroupCoordinator, state: MetadataState): Result<GroupState, MetadataError> {
  const d = command.data;
  const missing = missingField(d.group, d.consumer);
  if (missing) return missing;
  if (d.coordinator === '') return err({ kind: 'MissingGroupField', field: 'coordinator' });
  const group = currentGeneration(state, d.group, d.coordinator, d.epoch);
  if (!group.ok) return group;
  if (!findMember(group.value, d.consumer)) return err({ kind: 'ConsumerNotMember', group: d.group, consumer: d.consumer });
  return group;
}

/** Moves the group to the least-loaded broker other than the failed coordinator, if it is still that generation. */
export function decideChangeCoordinator(command: ChangeGroupCoordinator, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const group = currentGeneration(state, d.group, d.coordinator, d.epoch);
  if (!group.ok) return group;
  const coordinator = selectCoordinator(state, d.coordinator);
  if (coordinator === undefined) return err({ kind: 'NoGroupCoordinatorCandidates', group: d.group });
  return ok({
    events: [{ type: 'ConsumerGroupCoordinatorChanged', data: { group: d.group, coordinator } }],
    expectations: [{ aggregate: groupRef(d.group), version: group.value.epoch }],
  });
}

function currentGeneration(state: MetadataState, id: string, coordinator: string, epoch: number): Result<GroupState, MetadataError> {
  const group = state.groups.get(id);
  if (!group) return err({ kind: 'ConsumerGroupNotFound', group: id });
  if (group.coordinator !== coordinator || group.epoch !== epoch) {
    return err({
      kind: 'GroupCoordinatorMismatch',
      group: id,
      coordinator: group.coordinator,
      epoch: group.epoch,
      reportedCoordinator: coordinator,
      reportedEpoch: epoch,
    });
  }
  return ok(group);
}

function missingField(group: string, consumer: string): Result<never, MetadataError> | undefined {
  if (group === '') return err({ kind: 'MissingGroupField', field: 'groupId' });
  if (consumer === '') return err({ kind: 'MissingGroupField', field: 'consumerId' });
  return undefined;
}
