import type { NodeId } from './raft-message';

/** Why a proposal was refused: expected outcomes, returned as values (docs/style.md "Errors"). */
export type ProposeError =
  /** Only the leader appends; `leaderId` is the known leader to forward to, if any. */
  | { readonly kind: 'NotLeader'; readonly leaderId: NodeId | null }
  | { readonly kind: 'ProposalTooLarge'; readonly bytes: number; readonly bytesMax: number }
  /** The leader already holds `uncommittedEntriesMax` entries that are not committed yet. */
  | { readonly kind: 'TooManyUncommittedEntries'; readonly uncommittedEntriesMax: number }
  /** A membership change is still pending, or this leader has not applied an entry of its own term yet. */
  | { readonly kind: 'ConfChangeInProgress' }
  /** Adding a voter that is already one, removing one that is not, or removing the last voter. */
  | { readonly kind: 'ConfChangeWithoutEffect' }
  /** The leader is handing leadership to `transferee` and takes no proposals meanwhile (thesis §3.10). */
  | { readonly kind: 'LeadershipTransferInProgress'; readonly transferee: NodeId };

/** Why a leadership transfer could not start. */
export type TransferLeadershipError =
  | { readonly kind: 'NotLeader'; readonly leaderId: NodeId | null }
  /** No other voter to hand over to (a group of one). */
  | { readonly kind: 'NoTransferTarget' }
  /** The requested target is this node, or not a voter. */
  | { readonly kind: 'InvalidTransferTarget'; readonly nodeId: NodeId };

/** Where a proposal landed in the log; it is applied only if an entry with this index and term is committed. */
export interface ProposalPosition {
  readonly index: number;
  readonly term: number;
}
