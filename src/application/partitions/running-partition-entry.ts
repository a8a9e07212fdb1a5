import { PartitionState } from '../../domain/partition/partition-state';
import { Cancellable } from '../ports/clock.port';
import { PartitionMetrics } from '../ports/metrics.port';
import { PartitionLog } from '../ports/partition-log.port';
import { MonitoredPartition } from './partition-health-monitor';
import { PartitionFollower } from './partition-follower';
import { PartitionLeader } from './partition-leader';
import { ReceivedTimestamps } from './partition-runtime';

/** Role-changing differences; anything else is applied to the open log in place. */
export const needsRestart = (running: PartitionState, desired: PartitionState): boolean =>
  desired.paused ||
  running.leader !== desired.leader ||
  running.leaderEpoch !== desired.leaderEpoch ||
  running.replicas.join(',') !== desired.replicas.join(',');

/** A partition open on this server, with its role. */
export interface Running {
  metrics: PartitionMetrics;
  state: PartitionState;
  log: PartitionLog;
  leader: PartitionLeader | null;
  follower: PartitionFollower | null;
  cleaner: Cancellable;
  received: ReceivedTimestamps;
}

export const monitoredOf = (r: Running): MonitoredPartition => ({
  state: r.state,
  log: r.log,
  isLeader: r.leader !== null,
  metrics: r.metrics,
  followerRepairBlocked: r.follower?.repairBlocked ?? false,
});
