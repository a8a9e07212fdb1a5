import { StreamConfig } from '../stream/stream-config';

/**
 * Facts recorded in the metadata log (docs/style.md "Metadata events"): readonly data, every value supplied by the
 * command, nothing generated while applying. Epochs are not in the events: they are the index of
 * the log entry that carries them, assigned when the entry is applied.
 */
export type BrokerRegistered = {
  readonly type: 'BrokerRegistered';
  readonly data: { readonly id: string; readonly host: string; readonly port: number };
};

export type BrokerReachabilityChanged = {
  readonly type: 'BrokerReachabilityChanged';
  readonly data: { readonly id: string; readonly reachable: boolean; readonly atNs: string };
};

export type StreamCreated = {
  readonly type: 'StreamCreated';
  readonly data: {
    readonly name: string;
    readonly subject: string;
    readonly group: string;
    readonly replicationFactor: number;
    readonly partitionCount: number;
    readonly config: StreamConfig;
    readonly creationTimestampNs: string;
  };
};

export type PartitionCreated = {
  readonly type: 'PartitionCreated';
  readonly data: {
    readonly stream: string;
    readonly partition: number;
    readonly replicas: readonly string[];
    readonly leader: string;
  };
};

export type StreamDeleted = { readonly type: 'StreamDeleted'; readonly data: { readonly name: string } };

export type PartitionPaused = {
  readonly type: 'PartitionPaused';
  readonly data: { readonly stream: string; readonly partition: number; readonly resumeAll: boolean; readonly atNs: string };
};

export type PartitionResumed = {
  readonly type: 'PartitionResumed';
  readonly data: { readonly stream: string; readonly partition: number; readonly atNs: string };
};

export type PartitionReadonlyChanged = {
  readonly type: 'PartitionReadonlyChanged';
  readonly data: { readonly stream: string; readonly partition: number; readonly readonly: boolean; readonly atNs: string };
};

export type IsrShrunk = {
  readonly type: 'IsrShrunk';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string };
};

export type IsrExpanded = {
  readonly type: 'IsrExpanded';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string };
};

/** A new leader from the ISR; the failed one leaves the ISR (Kafka's controller does the same). */
export type PartitionLeaderChanged = {
  readonly type: 'PartitionLeaderChanged';
  readonly data: { readonly stream: string; readonly partition: number; readonly leader: string; readonly isr: readonly string[] };
};

/** A group is created with its first member; its epoch is the entry's index. */
export type ConsumerGroupCreated = {
  readonly type: 'ConsumerGroupCreated';
  readonly data: { readonly group: string; readonly coordinator: string; readonly consumer: string; readonly streams: readonly string[] };
};

export type ConsumerGroupJoined = {
  readonly type: 'ConsumerGroupJoined';
  readonly data: { readonly group: string; readonly consumer: string; readonly streams: readonly string[] };
};

/** A member left (`expired`: its coordinator stopped hearing it); the last member leaving deletes the group. */
export type ConsumerGroupLeft = {
  readonly type: 'ConsumerGroupLeft';
  readonly data: { readonly group: string; readonly consumer: string; readonly expired: boolean };
};

export type ConsumerGroupCoordinatorChanged = {
  readonly type: 'ConsumerGroupCoordinatorChanged';
  readonly data: { readonly group: string; readonly coordinator: string };
};

/** The activity events up to `id` are on `__activity`. */
export type ActivityPublished = { readonly type: 'ActivityPublished'; readonly data: { readonly id: number } };

export type GroupEvent = ConsumerGroupCreated | ConsumerGroupJoined | ConsumerGroupLeft | ConsumerGroupCoordinatorChanged;

export type MetadataEvent =
  | BrokerRegistered
  | BrokerReachabilityChanged
  | StreamCreated
  | PartitionCreated
  | StreamDeleted
  | PartitionPaused
  | PartitionResumed
  | PartitionReadonlyChanged
  | IsrShrunk
  | IsrExpanded
  | PartitionLeaderChanged
  | ActivityPublished
  | GroupEvent;

export type MetadataEventType = MetadataEvent['type'];
