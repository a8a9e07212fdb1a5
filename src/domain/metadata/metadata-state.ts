import { BrokerState } from '../cluster/cluster-state';
import { GroupState } from '../group/group-state';
import { PartitionState } from '../partition/partition-state';
import { StreamState } from '../stream/stream-state';

/** The replicated metadata: the result of applying every committed log entry in order. */
export interface MetadataState {
  readonly brokers: ReadonlyMap<string, BrokerState>;
  readonly streams: ReadonlyMap<string, StreamState>;
  /** Consumer groups by id (docs/consumers.md "Consumer groups"). */
  readonly groups: ReadonlyMap<string, GroupState>;
  /** The id (log index) of the last activity event on `__activity`; 0 before the first (docs/consumers.md "Activity stream"). */
  readonly activityPublishedUpTo: number;
  /** Index of the last log entry applied; 0 before the first. */
  readonly lastAppliedIndex: number;
}

export const emptyMetadataState = (): MetadataState => ({
  brokers: new Map(),
  streams: new Map(),
  groups: new Map(),
  activityPublishedUpTo: 0,
  lastAppliedIndex: 0,
});

export const findPartition = (state: MetadataState, stream: string, partition: number): PartitionState | undefined =>
  state.streams.get(stream)?.partitions[partition];
