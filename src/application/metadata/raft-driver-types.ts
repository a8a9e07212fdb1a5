import type { ConfChange, Entry, EntryData, NodeId, ProposalPosition, ProposeError, RaftMessage, Snapshot, SoftState, TransferLeadershipError } from '../../domain/consensus/raft';
import type { Result } from '../../domain/shared/result';
import type { StorageIoError } from '../errors/broker-errors';

/** What `RaftDriver` is configured and called back with, and the inputs of its serial queue. */

export interface RaftDriverOptions {
  /** Wall time of one Raft tick; `RaftConfig.electionTicks`/`heartbeatTicks` count these. */
  readonly tickMs: number;
  /** Bound on queued inbound messages; further messages are dropped (Raft tolerates loss) and counted. */
  readonly messagesQueuedMax: number;
  /** Bound on queued proposals; a further proposal is refused with `RaftProposalQueueFullError`. */
  readonly proposalsQueuedMax: number;
}

export interface RaftDriverHandlers {
  /**
   * Committed entries, in index order, each exactly once per driver lifetime (noop and conf-change
   * entries included: the callee skips what it does not apply). Called after they were persisted
   * and before `advance`; must not throw (a throw fails the driver).
   */
  onCommitted(entries: readonly Entry[]): void;
  /** A snapshot received from the leader: the state machine must restore it. Absent: the driver fails. */
  onSnapshot?(snapshot: Snapshot): void;
  /** The driver failed (a handler throw, damaged storage, a broken contract): it stopped and refuses further work. */
  onFailure?(error: unknown): void;
  /**
   * A save failed with `StorageIoError` (a full disk): the driver keeps the Ready, refuses
   * proposals and retries the save after `retryInMs` (called again for every failed retry, with
   * `first` false).
   */
  onStorageFailure?(error: StorageIoError, retryInMs: number, first: boolean): void;
  /** A retried save succeeded: the driver resumed. */
  onStorageRecovered?(): void;
  /** The node's role or known leader changed (the Ready's soft state), after that Ready was saved. */
  onSoftState?(soft: SoftState): void;
}

/**
 * What the state machine hands to `compactApplied`: its state serialized as of the node's applied
 * index, or null to skip this compaction (e.g. the snapshot would be too large to send).
 */
export type SnapshotCapture = (appliedIndex: number) => EntryData | null;

export interface ProposeInput {
  /** Called synchronously inside the loop when the entry was appended, before the Ready is handled. */
  readonly accepted: ((position: ProposalPosition) => void) | undefined;
  readonly resolve: (result: Result<ProposalPosition, ProposeError>) => void;
  readonly reject: (error: unknown) => void;
}

export type Input =
  | { readonly kind: 'tick' }
  | { readonly kind: 'message'; readonly message: RaftMessage }
  | { readonly kind: 'campaign' }
  | {
      readonly kind: 'transfer';
      readonly to: NodeId | null;
      readonly resolve: (result: Result<NodeId, TransferLeadershipError>) => void;
      readonly reject: (error: unknown) => void;
    }
  | (ProposeInput & { readonly kind: 'propose'; readonly data: EntryData })
  | (ProposeInput & { readonly kind: 'conf-change'; readonly change: ConfChange })
  | {
      readonly kind: 'compact';
      /** The index to compact at, or 'applied' (the applied index when the input is handled). */
      readonly index: number | 'applied';
      readonly capture: SnapshotCapture;
      readonly resolve: (snapshot: Snapshot | null) => void;
      readonly reject: (error: unknown) => void;
    };
