/**
 * Raft's vocabulary: node ids, log entries and the messages nodes exchange (Raft paper §5, etcd `raftpb`).
 * Everything here is readonly plain data, so adapters can encode it and tests can compare it.
 */

/** A member of the Raft group. Opaque to the core; the application maps it to a server. */
export type NodeId = string;

/** The payload of an entry: opaque to the core. */
export type EntryData = Uint8Array | string;

/**
 * `normal` carries a proposal; `noop` is the empty entry a new leader appends so that entries of
 * earlier terms become committed (§5.4.2, §8); `conf-change` changes the voters (conf-change.ts)
 * and takes effect when applied. The application skips `noop` and `conf-change` entries when applying.
 */
export type EntryType = 'normal' | 'noop' | 'conf-change';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: EntryData;
}

/**
 * The application's state up to and including entry (`index`, `term`), produced by the state
 * machine; it replaces the log up to `index`. `data` is opaque to the core.
 */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  /** The voters as of `index`. */
  readonly voters: readonly NodeId[];
  readonly data: EntryData;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term, except where a message type documents otherwise. */
  readonly term: number;
}

/** §5.3 AppendEntries RPC; with no entries it still carries the commit index and probes the follower's log. */
export interface AppendEntries extends Envelope {
  readonly type: 'AppendEntries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Answer to AppendEntries. Accepted: `index` is the last index now known to match the leader.
 * Rejected: `index` is the refused `prevLogIndex`, and the hint is the follower's last entry at or
 * below it whose term is ≤ `prevLogTerm` (fast backtracking, etcd `findConflictByTerm`).
 */
export interface AppendEntriesResult extends Envelope {
  readonly type: 'AppendEntriesResult';
  readonly reject: boolean;
  readonly index: number;
  readonly rejectHintIndex: number;
  readonly rejectHintTerm: number;
}

/**
 * §5.2 RequestVote. With `preVote` (Ongaro's thesis §9.6) `term` is the term the sender would
 * campaign in (its term + 1) and nobody changes term or vote because of it.
 */
export interface RequestVote extends Envelope {
  readonly type: 'RequestVote';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /**
   * The candidate campaigns because the leader handed leadership to it (TimeoutNow): voters that
   * heard from that leader recently vote anyway (thesis §3.10; etcd's `campaignTransfer`).
   * Absent means false.
   */
  readonly leadershipTransfer?: boolean;
}

/** Answer to RequestVote. A granted pre-vote carries the requested term; a refusal carries the voter's term. */
export interface RequestVoteResult extends Envelope {
  readonly type: 'RequestVoteResult';
  readonly preVote: boolean;
  readonly reject: boolean;
}

/** Leader liveness; `commit` is min(follower's match, leader's commit) so the follower can always apply it. */
export interface Heartbeat extends Envelope {
  readonly type: 'Heartbeat';
  readonly commit: number;
}

export interface HeartbeatResult extends Envelope {
  readonly type: 'HeartbeatResult';
}

/**
 * §7 InstallSnapshot, sent in one piece (metadata snapshots are small) when the follower needs
 * entries the leader has compacted. Answered with an AppendEntriesResult.
 */
export interface InstallSnapshot extends Envelope {
  readonly type: 'InstallSnapshot';
  readonly snapshot: Snapshot;
}

/**
 * Leadership transfer (thesis §3.10, etcd `MsgTimeoutNow`): the leader tells a caught-up follower
 * to campaign at once, without waiting for its election timeout and without a pre-vote round.
 */
export interface TimeoutNow extends Envelope {
  readonly type: 'TimeoutNow';
}

export type RaftMessage = AppendEntries | AppendEntriesResult | RequestVote | RequestVoteResult | Heartbeat | HeartbeatResult | InstallSnapshot | TimeoutNow;
export type RaftMessageType = RaftMessage['type'];
