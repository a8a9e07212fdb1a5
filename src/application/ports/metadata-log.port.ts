import { BrokerError, type StorageIoError } from '../errors/broker-errors';
import { Observable } from 'rxjs';
import { MetadataProposal } from '../../domain/metadata/metadata-proposal';
import { MetadataState } from '../../domain/metadata/metadata-state';

/** A committed proposal, to be applied on top of the current state. */
export interface MetadataProposalEntry {
  readonly kind: 'proposal';
  readonly index: number;
  readonly proposal: MetadataProposal;
  /** True for entries replayed from storage at start-up. */
  readonly recovered: boolean;
}

/**
 * The whole state as of log index `index` (a Raft snapshot): it replaces the applied state when
 * `index` is past the last applied one. Emitted when a node restarts from a compacted log (first,
 * recovered: true) or, as a lagging follower, receives the leader's snapshot (recovered: false).
 * `state.lastAppliedIndex` is the last proposal the state contains, which may be below `index`
 * (entries that carry no proposal, such as Raft no-ops, are counted in `index` only).
 */
export interface MetadataSnapshotEntry {
  readonly kind: 'snapshot';
  readonly index: number;
  readonly state: MetadataState;
  readonly recovered: boolean;
}

export type MetadataLogEntry = MetadataProposalEntry | MetadataSnapshotEntry;

/**
 * The durable, ordered log of metadata proposals. A single-node adapter appends to a local file;
 * the Raft adapter (docs/cluster.md) replicates first. Either way every committed entry, ours or
 * another server's, arrives exactly once and in index order on `committed$`, except that a
 * snapshot entry may stand for (replace) any number of earlier entries.
 */
export interface MetadataLog {
  readonly committed$: Observable<MetadataLogEntry>;
  /** Emits the stored snapshot if any, then every stored entry (recovered: true) on `committed$`, then accepts proposals. */
  start(): Promise<void>;
  /**
   * Resolves once the entry is committed (durable) and has been emitted on `committed$`. `signal`
   * is the caller's deadline: when it aborts the wait ends with its reason (the entry may still be
   * committed later); without one the adapter bounds the wait itself.
   */
  propose(proposal: MetadataProposal, signal?: AbortSignal): Promise<void>;
  /**
   * Whether this server may propose now (always true on a single node; the Raft leader later). A
   * leader whose storage cannot save is not: it cannot commit, and another server may already lead.
   */
  readonly isLeader: boolean;
  /** Why this log cannot save now (a full disk; it retries by itself), or null; absent when it cannot fail this way. */
  readonly storageFailure?: StorageIoError | null;
  close(): Promise<void>;
}

// The errors a MetadataLog rejects a proposal with, whatever the adapter.

/** This server does not lead the metadata group: retry on (or forward to) `leaderId`. */
export class NotMetadataLeaderError extends BrokerError {
  constructor(readonly leaderId: string | null) {
    super(`this server is not the metadata leader${leaderId === null ? ' (no leader known)' : ` (leader: ${leaderId})`}`, { retriable: true });
  }
}

/** The proposal was not committed in time; it may still be committed later. */
export class MetadataProposalTimeoutError extends BrokerError {
  constructor(ms: number) {
    super(`metadata proposal not committed within ${ms} ms`, { retriable: true });
  }
}

/** The proposal's log position was taken by another leader's entry: it will never be committed. */
export class MetadataProposalDroppedError extends BrokerError {
  constructor(index: number) {
    super(`metadata proposal at index ${index} was replaced after a leader change`, { retriable: true });
  }
}
