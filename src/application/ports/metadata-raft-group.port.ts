import type { Observable } from 'rxjs';
import type { TransferLeadershipError } from '../../domain/consensus/raft';
import type { Result } from '../../domain/shared/result';

/**
 * What the cluster services need from the metadata Raft group, beyond the `MetadataLog` port:
 * leadership, membership and a way to start an election. `RaftMetadataLog` provides it.
 */
export interface MetadataRaftGroup {
  /** This server leads the group: it is the controller. */
  readonly isLeader: boolean;
  /**
   * `isLeader` as it changes, the current value first: from the Raft core's soft state and the
   * storage's health, so that roles follow leadership without polling it.
   */
  readonly leadership$: Observable<boolean>;
  /** The leader this server knows of, if any. */
  leaderId(): string | null;
  /** The voting members as this server knows them. */
  voters(): readonly string[];
  /** Adds a voter through the log; resolves once the change is committed. Idempotent. */
  addVoter(serverId: string): Promise<void>;
  /** Starts an election now (a one-voter group elects itself without waiting for a timeout). */
  campaign(): void;
  /**
   * Starts handing leadership to an up-to-date voter (controlled shutdown); resolves with the
   * target once under way, or with why not. `isLeader` turns false when the target has won.
   */
  transferLeadership(to: string | null): Promise<Result<string, TransferLeadershipError>>;
}
