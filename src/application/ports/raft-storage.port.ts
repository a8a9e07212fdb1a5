import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../domain/consensus/raft';

/**
 * Durable storage for one Raft node (docs/style.md "Storage", docs/raft.md "Storage"). Every adapter must pass
 * `test/contract/raft-storage.contract.ts`.
 *
 * The driver calls `load` once at start-up and hands the result to `new RaftNode(config, persisted)`;
 * after that it calls `save` with each `Ready`'s `hardState`, `entries` and `snapshot`, and sends the
 * Ready's messages only once `save` has resolved. Calls must not overlap (the driver is one logical
 * thread); adapters serialise them anyway.
 *
 * The stored log is "a snapshot (possibly none) followed by consecutive entries": entry `i` of
 * `entries` has index `snapshot.index + 1 + i` (`1 + i` without a snapshot). Returned arrays and
 * objects are fresh; callers must not mutate what they pass in while `save` runs.
 *
 * Errors thrown: `RaftStorageCorruptedError` from `load` when a file that cannot be cut back to a
 * valid prefix (hard state, snapshot, or a log that lost committed entries) is damaged — a node must
 * never silently start empty; `StorageIoError` when a write or sync failed (a full disk): nothing
 * of that save may be counted on, and the same save may be retried (the driver does, with a
 * back-off, until it succeeds: docs/raft.md "Storage failures"); plain `Error`s for calls that break
 * the contract below (a gap in the entries, a snapshot older than the stored one, use after `close`).
 */
export interface RaftStorage {
  /**
   * What a restarted node needs: the hard state (`EMPTY_HARD_STATE` when none was saved), the
   * latest snapshot (null when none) and the entries after it. `appliedIndex` is the snapshot index
   * (0 without one): the state machine is restored from the snapshot and re-applies the rest.
   * `hardState.commit` is raised to the snapshot index when it is lower (a crash between the two
   * writes). Adapters recover here (the filesystem one cuts a torn log tail, with a warning).
   * Must be called before `save`; later calls return the stored state as it is now (no new recovery).
   */
  load(): Promise<PersistedRaftState>;

  /**
   * Persists, in this order, `snapshot`, then `entries`, then `hardState` (so a durable commit index
   * never points past the durable log), and resolves only when all of it is durable (fsynced).
   *
   * - `snapshot`: replaces everything up to its index. Entries after it are kept only when the
   *   stored log holds the snapshot's own entry (same index and term), as Raft §7 requires;
   *   otherwise the whole log is discarded. A snapshot older than the stored one is an error; one
   *   at the same index replaces it. Local compaction is `save(undefined, [], snapshot)`.
   * - `entries`: consecutive. The first may be at any index from the first after the snapshot up to
   *   `lastIndex + 1`; an entry at an index ≤ the last stored index truncates the log from that
   *   index before the new entries are written (Raft §5.3). Entries at or below the snapshot index
   *   are ignored (already compacted); a gap is an error and nothing is written.
   * - `hardState`: replaces the stored one; `undefined` leaves it unchanged.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void>;

  /** Waits for a running `save` and releases resources. Further calls throw. */
  close(): Promise<void>;
}

/** Stored Raft state is damaged in a way that cannot be repaired by cutting a torn tail. Not retriable. */
export class RaftStorageCorruptedError extends Error {
  constructor(
    /** The damaged file (or the adapter's name for the damaged part). */
    readonly file: string,
    detail: string,
  ) {
    super(`raft storage file ${file} is corrupt: ${detail}; refusing to start (restore the file or wipe the node and rejoin under a new id)`);
    this.name = 'RaftStorageCorruptedError';
  }
}
