import { StreamConfig } from '../stream/stream-config';

/** Commands carry every input already resolved: times from the application's clock, defaults applied. */
export type RegisterBroker = {
  readonly type: 'RegisterBroker';
  readonly data: { readonly id: string; readonly host: string; readonly port: number };
};

export type CreateStream = {
  readonly type: 'CreateStream';
  readonly data: {
    readonly name: string;
    readonly subject: string;
    readonly group: string;
    /** -1 = every broker. */
    readonly replicationFactor: number;
    readonly partitions: number;
    readonly config: StreamConfig;
    readonly creationTimestampNs: string;
    /** Streams may not capture the cluster's internal subjects (`<namespace>.…`). */
    readonly namespace: string;
  };
};

export type DeleteStream = { readonly type: 'DeleteStream'; readonly data: { readonly name: string } };

export type PauseStream = {
  readonly type: 'PauseStream';
  /** Empty `partitions` = all of them. */
  readonly data: { readonly name: string; readonly partitions: readonly number[]; readonly resumeAll: boolean; readonly atNs: string };
};

export type ResumeStream = {
  readonly type: 'ResumeStream';
  readonly data: { readonly name: string; readonly partitions: readonly number[]; readonly atNs: string };
};

export type SetStreamReadonly = {
  readonly type: 'SetStreamReadonly';
  readonly data: { readonly name: string; readonly partitions: readonly number[]; readonly readonly: boolean; readonly atNs: string };
};

/** The controller's verdict on a broker's heartbeats. */
export type SetBrokerReachable = {
  readonly type: 'SetBrokerReachable';
  readonly data: { readonly id: string; readonly reachable: boolean; readonly atNs: string };
};

/** A partition leader reports that `replica` fell behind (shrink) or caught up (expand), docs/replication.md "ISR changes". */
export type ChangeIsr = {
  readonly type: 'ShrinkIsr' | 'ExpandIsr';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string; readonly leader: string; readonly leaderEpoch: number };
};

/**
 * A follower (`replica`) has had no answer from the partition's leader for
 * `replica.max.leader.timeout` (docs/replication.md "Failover"). Never recorded: the controller counts such
 * reports as witnesses and replaces the leader once most of the ISR reported it.
 */
export type ReportLeader = {
  readonly type: 'ReportLeader';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string; readonly leader: string; readonly leaderEpoch: number };
};

/** The controller replaces a failed partition leader by an in-sync replica (docs/replication.md "Failover"). */
export type ChangePartitionLeader = {
  readonly type: 'ChangePartitionLeader';
  readonly data: { readonly stream: string; readonly partition: number; readonly failedLeader: string };
};

/**
 * Controlled shutdown (docs/cluster.md): `broker` is about to stop. In one log entry it is
 * recorded unreachable (no new replica or leadership goes to it), each partition it leads at the
 * listed epoch gets an in-sync replica as leader, and it leaves each ISR it follows at the listed
 * epoch where at least `isrSizeMin` members remain. Items whose epoch is over, or that cannot move
 * (no other in-sync replica), are left as they are: the epochs keep a late or repeated request
 * from moving anything twice. A server with many partitions sends several, in chunks.
 */
export type VacateBroker = {
  readonly type: 'VacateBroker';
  readonly data: {
    readonly broker: string;
    readonly atNs: string;
    readonly leads: readonly { readonly stream: string; readonly partition: number; readonly leaderEpoch: number }[];
    readonly follows: readonly { readonly stream: string; readonly partition: number; readonly leaderEpoch: number; readonly isrSizeMin: number }[];
  };
};

/**
 * A consumer joins a group (docs/consumers.md "Consumer groups"): creates the group when it does not
 * exist, with this consumer as its only member and a coordinator chosen by the decider, else adds
 * the consumer to it. `streams` must all exist.
 */
export type JoinConsumerGroup = {
  readonly type: 'JoinConsumerGroup';
  readonly data: { readonly group: string; readonly consumer: string; readonly streams: readonly string[] };
};

/**
 * A consumer leaves its group, by its own request or (`expired`) because the coordinator stopped
 * hearing it. `epoch`, when set, is the group epoch the coordinator saw when the member's timer
 * fired: the leave applies only at that epoch, so a member that left and joined again meanwhile is
 * not removed by its old timer.
 */
export type LeaveConsumerGroup = {
  readonly type: 'LeaveConsumerGroup';
  readonly data: { readonly group: string; readonly consumer: string; readonly expired: boolean; readonly epoch?: number };
};

/**
 * A member (`consumer`) has had no answer from the group's coordinator (docs/consumers.md
 * "Coordinator failover"). Never recorded: the controller counts such reports as witnesses
 * (coordinator-witnesses.ts) and changes the coordinator once more than half the members reported.
 */
export type ReportGroupCoordinator = {
  readonly type: 'ReportGroupCoordinator';
  readonly data: { readonly group: string; readonly consumer: string; readonly coordinator: string; readonly epoch: number };
};

/** The controller replaces the coordinator `coordinator` of the group at `epoch` (the generation the witnesses reported). */
export type ChangeGroupCoordinator = {
  readonly type: 'ChangeGroupCoordinator';
  readonly data: { readonly group: string; readonly coordinator: string; readonly epoch: number };
};

/**
 * The controller published the activity events up to `id` (a log index) to `__activity`
 * (docs/consumers.md "Activity stream"): the next controller goes on after it.
 */
export type RecordActivityPublished = { readonly type: 'RecordActivityPublished'; readonly data: { readonly id: number } };

export type GroupCommand = JoinConsumerGroup | LeaveConsumerGroup | ReportGroupCoordinator | ChangeGroupCoordinator;

export type MetadataCommand =
  | RegisterBroker
  | SetBrokerReachable
  | ChangeIsr
  | ChangePartitionLeader
  | ReportLeader
  | VacateBroker
  | CreateStream
  | DeleteStream
  | PauseStream
  | ResumeStream
  | SetStreamReadonly
  | RecordActivityPublished
  | GroupCommand;
