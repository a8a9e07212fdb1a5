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

/** A partition leader reports that `replica` fell behind (shrink) or caught up (expand), spec §5.9. */
export type ChangeIsr = {
  readonly type: 'ShrinkIsr' | 'ExpandIsr';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string; readonly leader: string; readonly leaderEpoch: number };
};

/** The controller replaces a failed partition leader by an in-sync replica (spec §5.8). */
export type ChangePartitionLeader = {
  readonly type: 'ChangePartitionLeader';
  readonly data: { readonly stream: string; readonly partition: number; readonly failedLeader: string };
};

/**
 * Controlled shutdown (docs/replication.md): the partition's leader hands leadership to an in-sync
 * replica before it stops. Carries the epoch it leads, so a late or repeated request cannot move
 * leadership a second time.
 */
export type ResignPartitionLeader = {
  readonly type: 'ResignPartitionLeader';
  readonly data: { readonly stream: string; readonly partition: number; readonly leader: string; readonly leaderEpoch: number };
};

/**
 * Controlled shutdown: a follower leaves the ISR of the epoch it follows, so AckPolicy ALL
 * publishes stop waiting for it; refused when fewer than `isrSizeMin` members would remain.
 */
export type LeaveIsr = {
  readonly type: 'LeaveIsr';
  readonly data: { readonly stream: string; readonly partition: number; readonly replica: string; readonly leaderEpoch: number; readonly isrSizeMin: number };
};

export type MetadataCommand =
  | RegisterBroker
  | SetBrokerReachable
  | ChangeIsr
  | ChangePartitionLeader
  | ResignPartitionLeader
  | LeaveIsr
  | CreateStream
  | DeleteStream
  | PauseStream
  | ResumeStream
  | SetStreamReadonly;
