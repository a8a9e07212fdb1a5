import { PartitionState } from '../partition/partition-state';
import { StreamConfig } from './stream-config';

export interface StreamState {
  readonly name: string;
  readonly subject: string;
  readonly group: string;
  readonly replicationFactor: number;
  readonly config: StreamConfig;
  /** Unix ns as a decimal string, set from the command (the controller's clock). */
  readonly creationTimestampNs: string;
  /** Indexed by partition id. */
  readonly partitions: readonly PartitionState[];
  /** Set by PauseStream, cleared by a resume: a publish to any partition resumes them all. */
  readonly resumeAll: boolean;
  /**
   * Metadata log index of the latest change to the stream's own fields (its creation, resumeAll);
   * each partition has its own version (its `epoch`). Data written before the aggregates holds the
   * latest change to the stream or any of its partitions here, which is never below that.
   */
  readonly version: number;
}
