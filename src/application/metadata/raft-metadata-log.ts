import { BehaviorSubject, Observable, Subject } from 'rxjs';
import type { ConfChange, Entry, EntryData, NodeId, ProposalPosition, ProposeError, RaftConfig, RaftStatus, Snapshot, TransferLeadershipError } from '../../domain/consensus/raft';
import { MetadataProposal } from '../../domain/metadata/metadata-proposal';
import { metadataJsonCodec } from '../../domain/metadata/schema/metadata-json-codec';
import { MetadataState } from '../../domain/metadata/metadata-state';
import { assert } from '../../domain/shared/assert';
import type { Result } from '../../domain/shared/result';
import { BrokerError, StorageIoError } from '../errors/broker-errors';
import type { Cancellable, Scheduler } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import type { MetadataCodec } from '../ports/metadata-codec.port';
import { MetadataLog, MetadataLogEntry, MetadataProposalDroppedError, MetadataProposalTimeoutError, NotMetadataLeaderError } from '../ports/metadata-log.port';
import type { RaftStorage } from '../ports/raft-storage.port';
import type { RaftTransport } from '../ports/raft-transport.port';
import { RaftDriver, RaftDriverOptions, RaftStorageFailedError } from './raft-driver';

/** The core refused the proposal for a reason other than leadership (too large, too many uncommitted entries). */
export class MetadataProposalRefusedError extends BrokerError {
  constructor(readonly reason: ProposeError) {
    super(`metadata proposal refused by raft: ${reason.kind}`, {
      retriable: reason.kind === 'TooManyUncommittedEntries' || reason.kind === 'ConfChangeInProgress',
    });
  }
}

/**
 * A snapshot replaced the log up to `index` before this node saw its proposal's entry: whether the
 * proposal was committed is unknown (check the state, or retry an idempotent command).
 */
export class MetadataProposalOutcomeUnknownError extends BrokerError {
  constructor(index: number, snapshotIndex: number) {
    super(`metadata proposal at index ${index} was overtaken by a snapshot at ${snapshotIndex}; its outcome is unknown`, { retriable: true });
  }
}

/** The default bound on an encoded snapshot: it travels in one NATS message (1 MB by default), with room for the envelope. */
export const SNAPSHOT_BYTES_MAX_DEFAULT = 900 * 1024;

export interface RaftMetadataLogOptions extends RaftDriverOptions {
  /** How long `propose` (and `addVoter`/`removeVoter`) waits for its entry to be committed before rejecting. */
  readonly proposeTimeoutMs: number;
  /** Entries applied since the latest snapshot before a new one is taken (needs `setSnapshotSource`); 0 = never. */
  readonly snapshotThreshold: number;
  /**
   * Bound on an encoded snapshot (UTF-8 bytes of the data as a JSON string, close to its size in an
   * InstallSnapshot message); a larger one is not taken (logged as an error). Default `SNAPSHOT_BYTES_MAX_DEFAULT`.
   */
  readonly snapshotBytesMax?: number;
}

export interface RaftMetadataLogDeps {
  readonly config: RaftConfig;
  readonly storage: RaftStorage;
  readonly transport: RaftTransport;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Told of every failed save (metrics). */
  readonly onStorageIoError?: (error: StorageIoError) => void;
  /** How proposals and snapshots are stored; the JSON metadata schema by default. */
  readonly codec?: MetadataCodec;
}

interface Waiter {
  readonly term: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timer: Cancellable;
}

/** UTF-8 length of `text` without `Buffer` (the application layer stays platform-neutral). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * `MetadataLog` replicated with Raft (docs/cluster.md): proposals are JSON-encoded into Raft entries through
 * a `RaftDriver`; committed normal entries are decoded and emitted on `committed$` with their Raft
 * index (noop and conf-change entries are skipped, so indexes increase with gaps). At start the
 * stored snapshot (if any) and then the entries the stored log already had committed are emitted
 * with `recovered: true`; a snapshot received from the leader is emitted as a snapshot entry.
 *
 * Compaction: the log keeps no state. The state machine registers `setSnapshotSource`; every
 * `snapshotThreshold` applied entries the log queues `RaftDriver.compactApplied`, which reads the
 * source inside the driver loop (so the state is exactly the one at the driver's applied index:
 * `committed$` subscribers must apply synchronously, as `MetadataService` does).
 * Membership: `addVoter`/`removeVoter` (single-server changes, see docs/raft.md).
 */
export class RaftMetadataLog implements MetadataLog {
  private readonly committed = new Subject<MetadataLogEntry>();
  readonly committed$: Observable<MetadataLogEntry> = this.committed.asObservable();
  readonly driver: RaftDriver;
  private readonly waiters = new Map<number, Waiter>();
  private readonly logger: Logger;
  private recoveredUpTo = 0;
  private closed = false;
  private snapshotSource: (() => MetadataState) | null = null;
  /** Index of the last entry handed over by the driver (or of the latest snapshot). */
  private lastCommittedIndex = 0;
  /** Applied index at the latest compaction attempt, taken or skipped (too large). */
  private lastCompactionAttemptIndex = 0;
  private compacting = false;
  private readonly leading = new BehaviorSubject<boolean>(false);
  private readonly codec: MetadataCodec;

  constructor(
    private readonly deps: RaftMetadataLogDeps,
    private readonly options: RaftMetadataLogOptions,
  ) {
    this.logger = deps.logger.child({ component: 'raft-metadata-log', raftId: deps.config.id });
    this.codec = deps.codec ?? metadataJsonCodec;
    this.driver = new RaftDriver(deps.config, deps.storage, deps.transport, deps.scheduler, options, {
      onCommitted: (entries) => this.onCommitted(entries),
      onSnapshot: (snapshot) => this.onSnapshot(snapshot),
      onFailure: (error) => this.onFailure(error),
      onStorageFailure: (error, retryInMs, first) => this.onStorageFailure(error, retryInMs, first),
      onStorageRecovered: () => {
        this.logger.info({}, 'metadata log storage recovered: saves succeed again');
        this.noteLeadership();
      },
      onSoftState: () => this.noteLeadership(),
    });
  }

  /** Why the Raft storage fails to save now (the driver retries), or null while it works. */
  get storageFailure(): StorageIoError | null {
    return this.driver.storageFailure;
  }

  /**
   * The Raft leader whose storage saves: while saves fail it commits nothing, and its stalled driver
   * sends no heartbeats, so the other voters elect another leader; commands must go there.
   */
  get isLeader(): boolean {
    return this.driver.status()?.role === 'leader' && this.driver.storageFailure === null;
  }

  /** `isLeader` as it changes, the current value first (MetadataRaftGroup.leadership$). */
  get leadership$(): Observable<boolean> {
    return this.leading.asObservable();
  }

  status(): RaftStatus | null {
    return this.driver.status();
  }

  /** Tells `leadership$` when `isLeader` changed: on soft-state changes, storage failure and recovery, failure and close. */
  private noteLeadership(): void {
    const leading = !this.closed && this.isLeader;
    if (leading !== this.leading.value) this.leading.next(leading);
  }

  /** The voters as this node applied them (empty before start). */
  voters(): readonly NodeId[] {
    return this.driver.status()?.voters ?? [];
  }

  /**
   * Where snapshots come from: the state machine's state, read inside the driver loop when a
   * compaction runs (it must have applied every entry emitted so far). Null stops compaction.
   */
  setSnapshotSource(source: (() => MetadataState) | null): void {
    this.snapshotSource = source;
  }

  async start(): Promise<void> {
    const persisted = await this.deps.storage.load();
    this.recoveredUpTo = persisted.hardState.commit;
    if (persisted.snapshot !== null) {
      // The core replays only the entries after the snapshot (appliedIndex = snapshot index).
      const { index } = persisted.snapshot;
      this.lastCommittedIndex = index;
      this.lastCompactionAttemptIndex = index;
      this.committed.next({ kind: 'snapshot', index, state: this.codec.decodeSnapshot(persisted.snapshot.data), recovered: true });
    }
    await this.driver.start();
    this.logger.info({ recoveredUpTo: this.recoveredUpTo, snapshotIndex: persisted.snapshot?.index ?? 0 }, 'raft metadata log started');
    this.maybeCompact();
  }

  async propose(proposal: MetadataProposal, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new Error('metadata log is closed');
    const status = this.driver.status();
    if (status === null || status.role !== 'leader') throw new NotMetadataLeaderError(status?.leaderId ?? null);
    await this.submit((accepted) => this.driver.propose(this.codec.encodeProposal(proposal), accepted), false, signal);
  }

  /**
   * Makes `nodeId` a voter: proposes the change on the leader and resolves once it is committed and
   * applied here. Resolves at once when it already is a voter; rejects with `NotMetadataLeaderError`
   * on a follower and with `MetadataProposalRefusedError` (ConfChangeInProgress, retriable) while
   * another change is pending.
   */
  addVoter(nodeId: NodeId): Promise<void> {
    return this.changeVoters({ type: 'AddVoter', nodeId });
  }

  /** Removes `nodeId` from the voters; the mirror of `addVoter` (resolves at once when it is no voter). */
  removeVoter(nodeId: NodeId): Promise<void> {
    return this.changeVoters({ type: 'RemoveVoter', nodeId });
  }

  private async changeVoters(change: ConfChange): Promise<void> {
    if (this.closed) throw new Error('metadata log is closed');
    const status = this.driver.status();
    if (status === null || status.role !== 'leader') throw new NotMetadataLeaderError(status?.leaderId ?? null);
    const present = status.voters.includes(change.nodeId);
    if (change.type === 'AddVoter' ? present : !present) return;
    const result = await this.submit((accepted) => this.driver.proposeConfChange(change, accepted), true);
    if (result === 'without-effect') return; // another change got there first
    this.logger.info({ change, voters: this.voters() }, 'metadata group membership changed');
  }

  /**
   * Hands an entry to the driver and waits until it is committed and emitted (or applied, for a
   * conf change). `allowWithoutEffect`: a ConfChangeWithoutEffect refusal is an answer, not an error.
   */
  private async submit(
    send: (accepted: (position: ProposalPosition) => void) => Promise<Result<ProposalPosition, ProposeError>>,
    allowWithoutEffect = false,
    signal?: AbortSignal,
  ): Promise<'committed' | 'without-effect'> {
    const pending: { committed?: Promise<void> } = {};
    const result = await send((position) => {
      const committed = new Promise<void>((resolve, reject) => {
        const expire = (error: unknown): void => {
          this.waiters.delete(position.index);
          reject(error);
        };
        const timer = this.expiry(signal, expire);
        this.waiters.set(position.index, { term: position.term, resolve, reject, timer });
      });
      // Observed here so an early rejection is never reported as unhandled; re-awaited below.
      committed.catch(() => undefined);
      pending.committed = committed;
    });
    if (!result.ok) {
      if (result.error.kind === 'NotLeader') throw new NotMetadataLeaderError(result.error.leaderId);
      // Leadership is being handed over: the caller retries on the new leader (the hint).
      if (result.error.kind === 'LeadershipTransferInProgress') throw new NotMetadataLeaderError(result.error.transferee);
      if (allowWithoutEffect && result.error.kind === 'ConfChangeWithoutEffect') {
        // Removing the last voter is refused as "without effect" too: that one is an error.
        if (this.voters().length > 1) return 'without-effect';
      }
      throw new MetadataProposalRefusedError(result.error);
    }
    if (pending.committed === undefined) throw new Error('raft driver accepted a proposal without reporting its position');
    await pending.committed;
    return 'committed';
  }

  /**
   * Starts handing the leadership of the group to `to`, or to the most up-to-date voter with null
   * (docs/raft.md "Leadership transfer"). Resolves once the transfer is under way; watch
   * `isLeader` for its end. Proposals are refused with `NotMetadataLeaderError` meanwhile.
   */
  transferLeadership(to: NodeId | null): Promise<Result<NodeId, TransferLeadershipError>> {
    if (this.closed) return Promise.reject(new Error('metadata log is closed'));
    return this.driver.transferLeadership(to);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.stop();
    this.rejectWaiters(new NotMetadataLeaderError(null));
    this.noteLeadership();
    this.leading.complete();
    this.committed.complete();
  }

  private onCommitted(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const waiter = this.waiters.get(entry.index);
      if (waiter !== undefined && waiter.term !== entry.term) {
        this.waiters.delete(entry.index);
        waiter.timer.cancel();
        waiter.reject(new MetadataProposalDroppedError(entry.index));
      }
      if (entry.type === 'normal') {
        const proposal = this.decodeCommitted(entry);
        this.committed.next({ kind: 'proposal', index: entry.index, proposal, recovered: entry.index <= this.recoveredUpTo });
      }
      // A conf change's waiter resumes on a later microtask, after `advance` put the voters in force.
      if (waiter !== undefined && waiter.term === entry.term) {
        this.waiters.delete(entry.index);
        waiter.timer.cancel();
        waiter.resolve();
      }
    }
    const last = entries[entries.length - 1];
    if (last !== undefined) this.lastCommittedIndex = last.index;
    this.maybeCompact();
  }

  /**
   * An entry this server cannot read (a newer schema, corruption) stops the log: throwing fails the
   * driver. Skipping it would leave this server with a state the others do not have.
   */
  private decodeCommitted(entry: Entry): MetadataProposal {
    try {
      if (typeof entry.data !== 'string') throw new Error('the entry holds bytes, not a metadata proposal');
      return this.codec.decodeProposal(entry.data);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`metadata log entry ${entry.index} (term ${entry.term}) cannot be read: ${reason}`, { cause: error });
    }
  }

  /** A follower received the leader's snapshot (already persisted): the state machine restores it. */
  private onSnapshot(snapshot: Snapshot): void {
    // Undecodable data from the leader is corruption: throwing fails the driver (no silent divergence).
    const state = this.codec.decodeSnapshot(snapshot.data);
    assert(state.lastAppliedIndex <= snapshot.index, `snapshot at ${snapshot.index} holds entries up to ${state.lastAppliedIndex}`);
    for (const [index, waiter] of this.waiters) {
      if (index > snapshot.index) continue;
      this.waiters.delete(index);
      waiter.timer.cancel();
      waiter.reject(new MetadataProposalOutcomeUnknownError(index, snapshot.index));
    }
    this.lastCommittedIndex = snapshot.index;
    this.lastCompactionAttemptIndex = Math.max(this.lastCompactionAttemptIndex, snapshot.index);
    this.logger.info({ index: snapshot.index, term: snapshot.term, lastAppliedIndex: state.lastAppliedIndex }, 'restoring metadata from the leader snapshot');
    this.committed.next({ kind: 'snapshot', index: snapshot.index, state, recovered: false });
  }

  /** The caller's deadline ends the wait for a commit; without one, `proposeTimeoutMs` does. */
  private expiry(signal: AbortSignal | undefined, expire: (error: unknown) => void): Cancellable {
    if (signal === undefined) {
      const timeoutMs = this.options.proposeTimeoutMs;
      return this.deps.scheduler.setTimeout(() => expire(new MetadataProposalTimeoutError(timeoutMs)), timeoutMs);
    }
    const onAbort = (): void => expire(signal.reason);
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
    return { cancel: () => signal.removeEventListener('abort', onAbort) };
  }

  /**
   * Queues a compaction when `snapshotThreshold` entries were applied since the latest snapshot (or
   * skipped attempt). Never runs inside the driver's call stack: `compactApplied` is a queued input.
   */
  private maybeCompact(): void {
    const threshold = this.options.snapshotThreshold;
    if (threshold <= 0 || this.snapshotSource === null || this.compacting || this.closed || this.driver.state !== 'running') return;
    const since = Math.max(this.driver.snapshotIndex, this.lastCompactionAttemptIndex);
    if (this.lastCommittedIndex - since < threshold) return;
    this.compacting = true;
    this.driver
      .compactApplied((appliedIndex) => this.captureSnapshot(appliedIndex))
      .then((snapshot) => {
        if (snapshot !== null) this.logger.debug({ index: snapshot.index, term: snapshot.term }, 'metadata log compacted');
      })
      .catch((error: unknown) => {
        if (error instanceof StorageIoError) this.deps.onStorageIoError?.(error);
        this.logger.warn({ err: error }, 'metadata log compaction failed');
      })
      .finally(() => {
        this.compacting = false;
      });
  }

  /** Runs inside the driver loop, at `appliedIndex`: the encoded state, or null when it is too large to send. */
  private captureSnapshot(appliedIndex: number): EntryData | null {
    this.lastCompactionAttemptIndex = appliedIndex;
    const source = this.snapshotSource;
    if (source === null) return null;
    const state = source();
    assert(state.lastAppliedIndex <= appliedIndex, `state machine applied ${state.lastAppliedIndex}, past the raft applied index ${appliedIndex}`);
    const data = this.codec.encodeSnapshot(state);
    const bytes = utf8Bytes(JSON.stringify(data));
    const bytesMax = this.options.snapshotBytesMax ?? SNAPSHOT_BYTES_MAX_DEFAULT;
    if (bytes > bytesMax) {
      this.logger.error(
        { index: appliedIndex, bytes, bytesMax },
        'metadata snapshot exceeds snapshotBytesMax (it must fit one transport message); compaction skipped, the log keeps growing',
      );
      return null;
    }
    return data;
  }

  /**
   * A save failed (a full disk): the driver stalls and retries it. Proposals waiting for their
   * entries are told now rather than at their timeout; those entries may still be committed later.
   */
  private onStorageFailure(error: StorageIoError, retryInMs: number, first: boolean): void {
    this.deps.onStorageIoError?.(error);
    if (first) this.logger.error({ err: error, code: error.code, retryInMs }, 'metadata log storage failed: proposals are refused until a retried save succeeds');
    else this.logger.warn({ code: error.code, retryInMs }, 'metadata log storage still fails; retrying the save');
    this.rejectWaiters(new RaftStorageFailedError(error, 'the outcome of this proposal is unknown (it may still be committed once it recovers)'));
    this.noteLeadership();
  }

  private onFailure(error: unknown): void {
    this.logger.error({ err: error }, 'raft driver failed; the metadata log refuses further proposals');
    this.rejectWaiters(error);
    this.noteLeadership();
  }

  private rejectWaiters(error: unknown): void {
    for (const [index, waiter] of this.waiters) {
      this.waiters.delete(index);
      waiter.timer.cancel();
      waiter.reject(error);
    }
  }
}
