import { unreachable } from '../shared/assert';
import { decideActivityPublished } from '../activity/activity-progress';
import { ok, Result } from '../shared/result';
import { decideCluster } from '../cluster/cluster-aggregate';
import { checkCoordinatorReport, decideChangeCoordinator, decideJoinGroup, decideLeaveGroup } from '../group/group-aggregate';
import { decideVacate } from '../cluster/vacate-broker';
import { checkLeaderReport, decideIsrChange, decideLeaderChange, decidePartitionFlags } from '../partition/partition-decide';
import { decideCreateStream, decideDeleteStream } from '../stream/stream-aggregate';
import { MetadataCommand } from './metadata-commands';
import { MetadataError } from './metadata-errors';
import { Decision, noDecision } from './metadata-proposal';
import { MetadataState } from './metadata-state';

export { PARTITIONS_MAX } from '../stream/stream-aggregate';
export { checkLeaderReport } from '../partition/partition-decide';
export { checkCoordinatorReport } from '../group/group-aggregate';

/**
 * Decides a command against the applied state: the events to record, or why not. Pure. Each
 * command belongs to one aggregate (Cluster, Stream, Partition, ConsumerGroup; docs/architecture.md
 * "Aggregates"), whose decider also names the versions it read.
 */
export function decide(command: MetadataCommand, state: MetadataState): Result<Decision, MetadataError> {
  switch (command.type) {
    case 'RegisterBroker':
    case 'SetBrokerReachable':
      return decideCluster(command, state);
    case 'VacateBroker':
      return decideVacate(command, state);
    case 'CreateStream':
      return decideCreateStream(command, state);
    case 'DeleteStream':
      return decideDeleteStream(command, state);
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
      return checked.ok ? ok(noDecision) : checked;
    }
    case 'RecordActivityPublished':
      return ok(decideActivityPublished(command, state));
    case 'JoinConsumerGroup':
      return decideJoinGroup(command, state);
    case 'LeaveConsumerGroup':
      return decideLeaveGroup(command, state);
    case 'ChangeGroupCoordinator':
      return decideChangeCoordinator(command, state);
    case 'ReportGroupCoordinator': {
      // Judged here, counted by the controller (coordinator-witnesses.ts): a report records nothing.
      const checked = checkCoordinatorReport(command, state);
      return checked.ok ? ok(noDecision) : checked;
    }
    default:
      return unreachable(command);
  }
}
