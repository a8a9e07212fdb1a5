/** The Raft core's public surface (docs/style.md "Core", docs/raft.md). Step functions, progress and the log are internal. */
export type { Entry, EntryData, EntryType, NodeId, RaftMessage, RaftMessageType } from './raft-message';
export type { AppendEntries, AppendEntriesResult, Heartbeat, HeartbeatResult, InstallSnapshot, RequestVote, RequestVoteResult, Snapshot, TimeoutNow } from './raft-message';
export type { HardState, RaftRole, SoftState } from './hard-state';
export { EMPTY_HARD_STATE } from './hard-state';
export type { RaftConfig } from './raft-config';
export type { ProposalPosition, ProposeError, TransferLeadershipError } from './raft-errors';
export type { ConfChange, ConfChangeEntryData } from './conf-change';
export { decodeConfChange } from './conf-change';
export type { Ready } from './ready';
export type { PersistedRaftState, RaftStatus } from './raft-node-state';
export { EMPTY_PERSISTED_RAFT_STATE } from './raft-node-state';
export { RaftNode } from './raft-node';
