import type { RaftRole } from './hard-state';
import type { Progress } from './progress';
import type { VoteOutcome } from './quorum';
import type { RaftConfig } from './raft-config';
import type { RaftLog } from './raft-log';
import type { NodeId, RaftMessage, Snapshot } from './raft-message';

/**
 * What the per-role step functions may see and do on the node. `RaftNode` implements it; the
 * interface exists so step-*.ts do not import raft-node.ts (no import cycles).
 */
export interface RaftContext {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly term: number;
  readonly role: RaftRole;
  readonly voters: readonly NodeId[];
  /** Per-follower replication state; only meaningful on the leader. */
  readonly progress: Map<NodeId, Progress>;
  leaderId: NodeId | null;
  electionElapsed: number;
  /** The voter this leader is handing leadership to, if any (leader-transfer.ts). */
  leadTransferee: NodeId | null;
  /** The latest snapshot: made by the application (compact) or received from the leader. */
  snapshot: Snapshot | null;
  send(message: RaftMessage): void;
  becomeFollower(term: number, leaderId: NodeId | null): void;
  becomeLeader(): void;
  /** Start a pre-vote round or a real election; `transfer`: the leader handed over (TimeoutNow). */
  startElection(kind: 'pre-vote' | 'vote', transfer?: boolean): void;
  /** The node may campaign (it is a voter). */
  promotable(): boolean;
  recordVote(from: NodeId, granted: boolean): VoteOutcome;
}
