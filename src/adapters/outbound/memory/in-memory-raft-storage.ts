import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../../domain/consensus/raft';
import { EMPTY_HARD_STATE } from '../../../domain/consensus/raft';
import { RaftStorage } from '../../../application/ports/raft-storage.port';

/**
 * `RaftStorage` in memory, for tests and the simulation: the same semantics as the filesystem
 * adapter (test/contract/raft-storage.contract.ts) with every `save` durable at once. Restarting a
 * node over the same instance (`load` again) sees everything saved.
 */
export class InMemoryRaftStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snapshot: Snapshot | null = null;
  /** entries[i].index === snapshotIndex + 1 + i */
  private entries: Entry[] = [];
  private closed = false;

  async load(): Promise<PersistedRaftState> {
    this.assertOpen();
    const snapshotIndex = this.snapshot?.index ?? 0;
    return {
      hardState: { ...this.hardState, commit: Math.max(this.hardState.commit, snapshotIndex) },
      snapshot: this.snapshot === null ? null : copySnapshot(this.snapshot),
      entries: this.entries.map(copyEntry),
      appliedIndex: snapshotIndex,
    };
  }

  async save(hardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): Promise<void> {
    this.assertOpen();
    let log = this.entries;
    let snapshotIndex = this.snapshot?.index ?? 0;
    if (snapshot !== undefined) {
      if (snapshot.index < snapshotIndex) throw new Error(`snapshot at ${snapshot.index} is older than the stored one at ${snapshotIndex}`);
      // Raft §7: entries after the snapshot survive only when the log holds the snapshot's own entry.
      const own = log[snapshot.index - snapshotIndex - 1];
      if (snapshot.index === snapshotIndex) log = [...log];
      else log = own !== undefined && own.term === snapshot.term ? log.slice(snapshot.index - snapshotIndex) : [];
      snapshotIndex = snapshot.index;
    }
    const fresh = entries.filter((e) => e.index > snapshotIndex);
    assertConsecutive(fresh);
    const first = fresh[0];
    if (first !== undefined) {
      const lastIndex = snapshotIndex + log.length;
      if (first.index > lastIndex + 1) throw new Error(`entry ${first.index} leaves a gap after the last stored index ${lastIndex}`);
      log = [...log.slice(0, first.index - snapshotIndex - 1), ...fresh.map(copyEntry)];
    }
    if (snapshot !== undefined) this.snapshot = copySnapshot(snapshot);
    this.entries = log;
    if (hardState !== undefined) this.hardState = { ...hardState };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('raft storage is closed');
  }
}

function assertConsecutive(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1] as Entry;
    const entry = entries[i] as Entry;
    if (entry.index !== previous.index + 1) throw new Error(`entries are not consecutive: ${entry.index} follows ${previous.index}`);
  }
}

const copyData = (data: Entry['data']): Entry['data'] => (typeof data === 'string' ? data : new Uint8Array(data));
const copyEntry = (e: Entry): Entry => ({ index: e.index, term: e.term, type: e.type, data: copyData(e.data) });
const copySnapshot = (s: Snapshot): Snapshot => ({ index: s.index, term: s.term, voters: [...s.voters], data: copyData(s.data) });
