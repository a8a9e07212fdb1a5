import type { NodeId } from './raft-message';

/**
 * The state Raft must persist before sending any message that depends on it (§5, Figure 2):
 * the current term, the vote cast in it and the commit index (etcd keeps commit too, so a
 * restarted node re-applies only what it knows to be committed).
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

export const sameHardState = (a: HardState, b: HardState): boolean => a.term === b.term && a.vote === b.vote && a.commit === b.commit;

export type RaftRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state worth reporting to the application (who leads, and what this node is). */
export interface SoftState {
  readonly leaderId: NodeId | null;
  readonly role: RaftRole;
}

export const sameSoftState = (a: SoftState, b: SoftState): boolean => a.leaderId === b.leaderId && a.role === b.role;
