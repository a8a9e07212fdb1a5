import { EMPTY_HARD_STATE } from './hard-state';
import type { HardState, RaftRole } from './hard-state';
import type { Entry, NodeId, Snapshot } from './raft-message';

/** What storage held when the node (re)starts: the driver loads it and hands it over. */
export interface PersistedRaftState {
  readonly hardState: HardState;
  /** The latest persisted snapshot, if any; the state machine has been restored from it. */
  readonly snapshot: Snapshot | null;
  /** The log after the snapshot (from index 1 without one), as persisted. */
  readonly entries: readonly Entry[];
  /**
   * The last index the application has applied and will not be given again: at least the
   * snapshot index (0 without a snapshot re-applies everything).
   */
  readonly appliedIndex: number;
}

export const EMPTY_PERSISTED_RAFT_STATE: PersistedRaftState = { hardState: EMPTY_HARD_STATE, snapshot: null, entries: [], appliedIndex: 0 };

/** A read-only view of the node, for the driver's status reporting and for tests. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: RaftRole;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly voters: readonly NodeId[];
  /** The voter this leader is handing leadership to (null when none). */
  readonly leadTransferee: NodeId | null;
}
