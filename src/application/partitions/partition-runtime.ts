import { PartitionState } from '../../domain/partition/partition-state';
import { PartitionMetrics } from '../ports/metrics.port';
import { PartitionLog } from '../ports/partition-log.port';

/** First and latest time this server received a message for the partition (PartitionMetadata field 9). */
export class ReceivedTimestamps {
  firstNs = 0n;
  latestNs = 0n;
  record(nowNs: bigint): void {
    if (this.firstNs === 0n) this.firstNs = nowNs;
    this.latestNs = nowNs;
  }
}

/** What this server runs for one partition: its open log and, when leading, the ingest role. */
export interface PartitionRuntime {
  readonly state: PartitionState;
  readonly log: PartitionLog;
  readonly received: ReceivedTimestamps;
  readonly isLeader: boolean;
  readonly metrics: PartitionMetrics;
}
