import { Observable } from 'rxjs';
import { MetadataProposal } from '../../domain/metadata/metadata-proposal';

export interface MetadataLogEntry {
  readonly index: number;
  readonly proposal: MetadataProposal;
  /** True for entries replayed from storage at start-up. */
  readonly recovered: boolean;
}

/**
 * The durable, ordered log of metadata proposals. A single-node adapter appends to a local file;
 * the Raft adapter (cluster issue) replicates first. Either way every committed entry, ours or
 * another server's, arrives exactly once and in index order on `committed$`.
 */
export interface MetadataLog {
  readonly committed$: Observable<MetadataLogEntry>;
  /** Emits every stored entry (recovered: true) on `committed$`, then accepts proposals. */
  start(): Promise<void>;
  /** Resolves once the entry is committed (durable) and has been emitted on `committed$`. */
  propose(proposal: MetadataProposal): Promise<void>;
  /** Whether this server may propose now (always true on a single node; the Raft leader later). */
  readonly isLeader: boolean;
  close(): Promise<void>;
}
