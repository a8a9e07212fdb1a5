import type { RaftStorage } from '../../src/application/ports/raft-storage.port';
import { InMemoryRaftStorage } from '../../src/adapters/outbound/memory/in-memory-raft-storage';
import { EMPTY_HARD_STATE } from '../../src/domain/consensus/raft';
import type { Entry, HardState, NodeId, PersistedRaftState, Snapshot } from '../../src/domain/consensus/raft';
import type { SimulatedScheduler } from '../support/virtual-clock';

/** Sees every durable write, before and after it lands (the invariant checker). */
export interface DiskObserver {
  beforeWrite(disk: SimulatedDisk, hardState: HardState | undefined, entries: readonly Entry[]): void;
  afterWrite(disk: SimulatedDisk, entries: readonly Entry[]): void;
}

/**
 * What survives a crash of one server: an `InMemoryRaftStorage` holding only the saves that
 * completed, plus a read-only mirror of its log and hard state for the checkers (reading it back
 * through `load()` after every step would copy the whole log). The simulation never compacts, so
 * there are no snapshots.
 */
export class SimulatedDisk {
  private readonly store = new InMemoryRaftStorage();
  private readonly logValue: Entry[] = [];
  private hardStateValue: HardState = EMPTY_HARD_STATE;

  constructor(
    readonly id: NodeId,
    private readonly observer: DiskObserver,
  ) {}

  /** The durable log; entry i has index i + 1. */
  get log(): readonly Entry[] {
    return this.logValue;
  }

  get hardState(): HardState {
    return this.hardStateValue;
  }

  load(): Promise<PersistedRaftState> {
    return this.store.load();
  }

  /** The save reached the platter: the write happens, all of it. */
  async write(hardState: HardState | undefined, entries: readonly Entry[], snapshot: Snapshot | undefined): Promise<void> {
    if (snapshot !== undefined) throw new Error(`unexpected snapshot at ${snapshot.index}: the simulation never compacts`);
    this.observer.beforeWrite(this, hardState, entries);
    await this.store.save(hardState, entries);
    const first = entries[0];
    if (first !== undefined) {
      this.logValue.length = first.index - 1;
      this.logValue.push(...entries);
    }
    if (hardState !== undefined) this.hardStateValue = hardState;
    this.observer.afterWrite(this, entries);
  }
}

/**
 * The `RaftStorage` port for one incarnation of one server, over its `SimulatedDisk`, with a disk
 * latency on the virtual clock: a `save` becomes durable (and resolves) only when its fsync timer
 * fires. A crash cancels that timer with the rest of the incarnation's timers, so a save still
 * pending is lost entirely — unsynced writes do not survive — and its promise never settles, as
 * for a process that died; saves that resolved stay on the disk.
 */
export class CrashableRaftStorage implements RaftStorage {
  private crashed = false;
  private closed = false;
  /** Saves that became durable, and saves lost to a crash. */
  readonly counts = { durable: 0, lost: 0 };
  private pending = false;

  constructor(
    private readonly disk: SimulatedDisk,
    private readonly scheduler: SimulatedScheduler,
    private readonly latencyMs: () => number,
  ) {}

  load(): Promise<PersistedRaftState> {
    this.assertUsable();
    return this.disk.load();
  }

  save(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void> {
    this.assertUsable();
    if (this.pending) throw new Error(`raft storage of ${this.disk.id}: save called while another save is pending`);
    this.pending = true;
    return new Promise((resolve, reject) => {
      this.scheduler.setTimeout(() => {
        this.pending = false;
        this.counts.durable++;
        this.disk.write(hardState, entries, snapshot).then(resolve, reject);
      }, this.latencyMs());
    });
  }

  /** A save was called and is not durable yet. */
  get savePending(): boolean {
    return this.pending;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The process died; the caller also cancels the incarnation's timers, which drops a pending fsync. */
  crash(): void {
    this.crashed = true;
    if (this.pending) this.counts.lost++;
  }

  private assertUsable(): void {
    if (this.crashed) throw new Error(`raft storage of ${this.disk.id} used after its server crashed`);
    if (this.closed) throw new Error(`raft storage of ${this.disk.id} is closed`);
  }
}
