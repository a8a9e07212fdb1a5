import { Subscription } from 'rxjs';
import { RaftNode } from '../../domain/consensus/raft';
import type {
  ConfChange,
  EntryData,
  NodeId,
  PersistedRaftState,
  ProposalPosition,
  ProposeError,
  RaftConfig,
  RaftMessage,
  RaftStatus,
  Ready,
  Snapshot,
  TransferLeadershipError,
} from '../../domain/consensus/raft';
import type { Result } from '../../domain/shared/result';
import { StorageIoError } from '../errors/broker-errors';
import type { Cancellable, Scheduler } from '../ports/clock.port';
import type { RaftStorage } from '../ports/raft-storage.port';
import type { RaftTransport } from '../ports/raft-transport.port';
import { RaftCompactionIndexError, RaftDriverStoppedError, RaftProposalQueueFullError, RaftStorageFailedError, SaveRetryInterrupted } from './raft-driver-errors';
import { SaveRetryDelay } from './save-retry-delay';

import type { Input, ProposeInput, RaftDriverHandlers, RaftDriverOptions, SnapshotCapture } from './raft-driver-types';

export { RaftCompactionIndexError, RaftDriverStoppedError, RaftProposalQueueFullError, RaftStorageFailedError };
export type { RaftDriverHandlers, RaftDriverOptions, SnapshotCapture };

type DriverState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * Drives one `RaftNode` (docs/style.md "Driver", docs/raft.md): one logical thread over a bounded
 * serial queue of inputs — ticks from the `Scheduler`, messages from `RaftTransport.inbound$`,
 * proposals — and after every input it drains `ready()`: persist (`RaftStorage.save`), then send,
 * then hand the committed entries to `onCommitted`, then `advance`.
 */
export class RaftDriver {
  private node: RaftNode | null = null;
  private stateValue: DriverState = 'new';
  private readonly queue: Input[] = [];
  private messagesQueued = 0;
  private proposalsQueued = 0;
  private tickQueued = false;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private ticker: Cancellable | null = null;
  private inbound: Subscription | null = null;
  private persistedValue: PersistedRaftState | null = null;
  private snapshotIndexValue = 0;
  private storageFailureValue: StorageIoError | null = null;
  private readonly saveRetry: SaveRetryDelay;
  /** The proposal whose Ready is being handled: told at once when its save stalls. */
  private inHand: ProposeInput | null = null;
  /** Inbound messages dropped because the queue was full. */
  messagesDropped = 0;

  constructor(
    private readonly config: RaftConfig,
    private readonly storage: RaftStorage,
    private readonly transport: RaftTransport,
    private readonly scheduler: Scheduler,
    private readonly options: RaftDriverOptions,
    private readonly handlers: RaftDriverHandlers,
  ) {
    this.saveRetry = new SaveRetryDelay(scheduler);
  }

  get state(): DriverState {
    return this.stateValue;
  }

  /** What `storage.load()` returned at start (null before). */
  get persisted(): PersistedRaftState | null {
    return this.persistedValue;
  }

  /** The index of the latest snapshot persisted (loaded, received from the leader, or taken by `compact`); 0 without one. */
  get snapshotIndex(): number {
    return this.snapshotIndexValue;
  }

  /** Why saves fail now (the driver retries them), or null while storage works. */
  get storageFailure(): StorageIoError | null {
    return this.storageFailureValue;
  }

  /** The node's status, or null before start. */
  status(): RaftStatus | null {
    return this.node?.status() ?? null;
  }

  /**
   * Loads the persisted state, builds the node, hands the entries already committed in the stored
   * log to `onCommitted` (replay), then starts ticking and receiving. Resolves after the replay.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'new') throw new Error(`raft driver cannot start: it is ${this.stateValue}`);
    this.stateValue = 'starting';
    const persisted = await this.storage.load();
    this.persistedValue = persisted;
    this.snapshotIndexValue = persisted.snapshot?.index ?? 0;
    this.node = new RaftNode(this.config, persisted);
    this.running = true;
    try {
      await this.drain();
    } catch (error) {
      if (error instanceof SaveRetryInterrupted) throw new RaftDriverStoppedError('stopping');
      this.fail(error);
      throw error;
    } finally {
      this.settle();
    }
    // stop() during the replay: stay stopped.
    if (this.stateValue !== 'starting') return;
    this.stateValue = 'running';
    this.inbound = this.transport.inbound$.subscribe((message) => this.receive(message));
    this.ticker = this.scheduler.setInterval(() => this.enqueueTick(), this.options.tickMs);
    this.pump();
  }

  /**
   * Queues `data` for `RaftNode.propose`. Resolves with the core's answer (the position, or why it
   * was refused) once the resulting Ready was handled; `accepted` is called synchronously with the
   * position before the entry can be committed, so the caller can wait for it. Rejects with
   * `RaftProposalQueueFullError` when the queue is full and `RaftDriverStoppedError` when not running.
   */
  propose(data: EntryData, accepted?: (position: ProposalPosition) => void): Promise<Result<ProposalPosition, ProposeError>> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    if (this.proposalsQueued >= this.options.proposalsQueuedMax) return Promise.reject(new RaftProposalQueueFullError(this.options.proposalsQueuedMax));
    return new Promise((resolve, reject) => {
      this.proposalsQueued++;
      this.queue.push({ kind: 'propose', data, accepted, resolve, reject });
      this.pump();
    });
  }

  /**
   * Queues `change` for `RaftNode.proposeConfChange` (one voter added or removed). Resolves and
   * rejects like `propose`; the change takes effect on each node when its entry is applied.
   */
  proposeConfChange(change: ConfChange, accepted?: (position: ProposalPosition) => void): Promise<Result<ProposalPosition, ProposeError>> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    if (this.proposalsQueued >= this.options.proposalsQueuedMax) return Promise.reject(new RaftProposalQueueFullError(this.options.proposalsQueuedMax));
    return new Promise((resolve, reject) => {
      this.proposalsQueued++;
      this.queue.push({ kind: 'conf-change', change, accepted, resolve, reject });
      this.pump();
    });
  }

  /**
   * Queues a local compaction: the state machine has applied up to `index` and serialized its state
   * in `data`. When handled, calls `RaftNode.compact(index, data)` and persists the snapshot with
   * `storage.save(undefined, [], snapshot)` (between Readies, so the Ready contract holds). The core
   * only snapshots at its applied index: if the node has applied more by then, rejects with
   * `RaftCompactionIndexError` (nothing compacted); prefer `compactApplied`, which cannot race.
   * Resolves with null when a snapshot at or past `index` already exists.
   */
  compact(index: number, data: EntryData): Promise<Snapshot | null> {
    return this.enqueueCompaction(index, () => data);
  }

  /**
   * Queues a local compaction at whatever index the node has applied when the input is handled:
   * `capture(appliedIndex)` runs inside the loop, when every entry up to that index has been handed
   * to `onCommitted` and nothing else, so a state machine that applies synchronously in
   * `onCommitted` serializes exactly the state at that index. Resolves with the snapshot taken, or
   * null when `capture` declined or nothing was applied since the latest snapshot.
   */
  compactApplied(capture: SnapshotCapture): Promise<Snapshot | null> {
    return this.enqueueCompaction('applied', capture);
  }

  private enqueueCompaction(index: number | 'applied', capture: SnapshotCapture): Promise<Snapshot | null> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'compact', index, capture, resolve, reject });
      this.pump();
    });
  }

  /** Starts an election now (tests, leadership hand-over); a no-op when not running. */
  campaign(): void {
    if (this.stateValue !== 'running') return;
    this.queue.push({ kind: 'campaign' });
    this.pump();
  }

  /**
   * Queues `RaftNode.transferLeadership(to)` (docs/raft.md "Leadership transfer"). Resolves with
   * the target once the transfer is under way (its TimeoutNow may be sent later), or with why it
   * could not start; the node steps down when the target wins, or keeps leading if it does not
   * within an election timeout. Rejects with `RaftDriverStoppedError` when not running.
   */
  transferLeadership(to: NodeId | null): Promise<Result<NodeId, TransferLeadershipError>> {
    if (this.stateValue !== 'running') return Promise.reject(new RaftDriverStoppedError(this.stateValue));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'transfer', to, resolve, reject });
      this.pump();
    });
  }

  /** Cancels ticks, stops receiving, and waits for the queued inputs to be handled (a stalled save is given up). Idempotent. */
  async stop(): Promise<void> {
    if (this.stateValue === 'running' || this.stateValue === 'new' || this.stateValue === 'starting') this.stateValue = 'stopping';
    this.saveRetry.interrupt();
    this.ticker?.cancel();
    this.ticker = null;
    this.inbound?.unsubscribe();
    this.inbound = null;
    await this.whenIdle();
    if (this.stateValue === 'stopping') this.stateValue = 'stopped';
  }

  private receive(message: RaftMessage): void {
    if (this.stateValue !== 'running') return;
    if (this.messagesQueued >= this.options.messagesQueuedMax) {
      this.messagesDropped++;
      return;
    }
    this.messagesQueued++;
    this.queue.push({ kind: 'message', message });
    this.pump();
  }

  private enqueueTick(): void {
    // One pending tick is enough: if the loop lags, logical time slows down rather than piling up.
    if (this.stateValue !== 'running' || this.tickQueued) return;
    this.tickQueued = true;
    this.queue.push({ kind: 'tick' });
    this.pump();
  }

  private whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts the loop on a later microtask (never inside a caller's stack, e.g. a synchronous transport). */
  private pump(): void {
    if (this.running || this.node === null || this.stateValue === 'starting') return;
    this.running = true;
    void Promise.resolve().then(() => this.loop());
  }

  private async loop(): Promise<void> {
    try {
      for (let input = this.queue.shift(); input !== undefined; input = this.queue.shift()) {
        await this.handle(input);
      }
    } catch (error) {
      if (!(error instanceof SaveRetryInterrupted)) this.fail(error);
      else {
        this.refuseQueued(new RaftDriverStoppedError(this.stateValue));
        this.queue.length = 0;
      }
    } finally {
      this.settle();
    }
  }

  /** Why a new proposal or compaction is refused now, or null. */
  private refusal(): Error | null {
    if (this.stateValue !== 'running') return new RaftDriverStoppedError(this.stateValue);
    if (this.storageFailureValue !== null) return new RaftStorageFailedError(this.storageFailureValue);
    return null;
  }

  /** The loop stopped running: wake whoever waits for it (stop). */
  private settle(): void {
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private async handle(input: Input): Promise<void> {
    const node = this.node;
    if (node === null) throw new Error('raft driver has no node');
    switch (input.kind) {
      case 'tick':
        this.tickQueued = false;
        if (this.stateValue === 'running') node.tick();
        break;
      case 'message':
        this.messagesQueued--;
        if (this.stateValue === 'running') node.step(input.message);
        break;
      case 'campaign':
        if (this.stateValue === 'running') node.campaign();
        break;
      case 'transfer':
        if (this.stateValue !== 'running') {
          input.reject(new RaftDriverStoppedError(this.stateValue));
          return;
        }
        return this.drainAndAnswer(input, node.transferLeadership(input.to));
      case 'propose':
      case 'conf-change': {
        this.proposalsQueued--;
        if (this.stateValue !== 'running' && this.stateValue !== 'stopping') {
          input.reject(new RaftDriverStoppedError(this.stateValue));
          return;
        }
        const result = input.kind === 'propose' ? node.propose(input.data) : node.proposeConfChange(input.change);
        if (result.ok) input.accepted?.(result.value);
        this.inHand = input;
        try {
          return await this.drainAndAnswer(input, result);
        } finally {
          this.inHand = null;
        }
      }
      case 'compact': {
        let snapshot: Snapshot | null;
        try {
          snapshot = await this.compactNow(node, input.index, input.capture);
        } catch (error) {
          input.reject(error);
          // A refused index is the caller's race, and a snapshot that could not be saved (a full
          // disk) is only a compaction put off: the stored log still holds everything.
          if (error instanceof RaftCompactionIndexError || error instanceof StorageIoError) return;
          throw error;
        }
        input.resolve(snapshot);
        return;
      }
    }
    await this.drain();
  }

  /** Handles the Readies an input caused, then answers its caller; a failure (storage) answers it and fails the driver. */
  private async drainAndAnswer<T>(input: { readonly resolve: (value: T) => void; readonly reject: (error: unknown) => void }, value: T): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      input.reject(error);
      throw error;
    }
    input.resolve(value);
  }

  /**
   * Runs between Readies (the previous one was advanced, the next not taken yet): nothing is
   * pending, every applied entry is durable, so the stored log holds the snapshot's own entry and
   * `save` keeps the entries after it.
   */
  private async compactNow(node: RaftNode, index: number | 'applied', capture: SnapshotCapture): Promise<Snapshot | null> {
    if (this.stateValue !== 'running' && this.stateValue !== 'stopping') throw new RaftDriverStoppedError(this.stateValue);
    const applied = node.status().appliedIndex;
    const at = index === 'applied' ? applied : index;
    if (at <= this.snapshotIndexValue) return null;
    if (at !== applied) throw new RaftCompactionIndexError(at, applied);
    const data = capture(at);
    if (data === null) return null;
    const snapshot = node.compact(at, data);
    await this.storage.save(undefined, [], snapshot);
    this.snapshotIndexValue = snapshot.index;
    return snapshot;
  }

  /** The Ready contract (docs/raft.md): persist, send, apply, advance — until there is no work. */
  private async drain(): Promise<void> {
    const node = this.node;
    if (node === null) return;
    for (let ready = node.ready(); ready !== null; ready = node.ready()) {
      if (ready.hardState !== undefined || ready.entries.length > 0 || ready.snapshot !== undefined) await this.persist(ready);
      if (ready.messages.length > 0) this.transport.send(ready.messages);
      if (ready.softState !== undefined) this.handlers.onSoftState?.(ready.softState);
      if (ready.snapshot !== undefined) {
        this.snapshotIndexValue = ready.snapshot.index;
        if (!this.handlers.onSnapshot) throw new Error(`raft snapshot at ${ready.snapshot.index} received but the state machine cannot restore snapshots`);
        this.handlers.onSnapshot(ready.snapshot);
      }
      if (ready.committedEntries.length > 0) this.handlers.onCommitted(ready.committedEntries);
      node.advance(ready);
    }
  }

  /**
   * Saves the Ready, and while storage fails (`StorageIoError`), keeps it un-advanced and retries
   * the same save with a back-off: Raft lets a node stall (it just does not answer); nothing is
   * sent or applied before the save succeeded (docs/raft.md "Storage failures").
   */
  private async persist(ready: Ready): Promise<void> {
    for (;;) {
      try {
        await this.storage.save(ready.hardState, ready.entries, ready.snapshot);
      } catch (error) {
        if (!(error instanceof StorageIoError)) throw error;
        this.stalled(error);
        if (!(await this.saveRetry.wait())) throw new SaveRetryInterrupted('raft driver stopped while a save was failing');
        continue;
      }
      this.saveRetry.reset();
      if (this.storageFailureValue !== null) {
        this.storageFailureValue = null;
        this.handlers.onStorageRecovered?.();
      }
      return;
    }
  }

  /** A save failed: refuse what waits (the proposal in hand may still be committed later), report it. */
  private stalled(error: StorageIoError): void {
    const first = this.storageFailureValue === null;
    this.storageFailureValue = error;
    if (first) {
      this.inHand?.reject(new RaftStorageFailedError(error, 'this proposal may still be committed once it recovers'));
      this.refuseQueued(new RaftStorageFailedError(error));
    }
    this.handlers.onStorageFailure?.(error, this.saveRetry.nextMs, first);
  }

  /** Rejects the queued proposals, compactions and leadership transfers (ticks and messages stay). */
  private refuseQueued(error: Error): void {
    const kept: Input[] = [];
    for (const input of this.queue.splice(0)) {
      if (input.kind === 'propose' || input.kind === 'conf-change') {
        this.proposalsQueued--;
        input.reject(error);
      } else if (input.kind === 'compact' || input.kind === 'transfer') input.reject(error);
      else kept.push(input);
    }
    this.queue.push(...kept);
  }

  private fail(error: unknown): void {
    if (this.stateValue === 'failed') return;
    this.stateValue = 'failed';
    this.ticker?.cancel();
    this.ticker = null;
    this.inbound?.unsubscribe();
    this.inbound = null;
    this.refuseQueued(new RaftDriverStoppedError('failed'));
    this.queue.length = 0;
    this.messagesQueued = 0;
    this.tickQueued = false;
    this.handlers.onFailure?.(error);
  }
}
