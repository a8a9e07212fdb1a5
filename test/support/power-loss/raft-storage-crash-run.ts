/**
 * One seeded power-loss run of `FilesystemRaftStorage` (docs/testing.md "Power loss"; reliability
 * plan scenario 7: "no committed Raft entry lost"): the saves a Raft driver makes — appends,
 * conflicting suffixes from a new leader, hard-state changes, local compactions and snapshots
 * received from a leader — one after another, with the power cut at a random disk operation, then
 * `load` on what survived; some saves meet a full disk, fail, and are retried once space is back,
 * as the driver does. `InMemoryRaftStorage` (same contract) gives the expected state after each
 * save. With k saves resolved and save k+1 under way at the cut:
 *
 * - `load` succeeds (nothing it calls corrupt may come out of a power cut);
 * - the hard state and the snapshot are those after save k or after save k+1;
 * - every entry loaded is the entry at its index after save k or after save k+1 (no garbage);
 * - every entry held after save k that save k+1 keeps is loaded (covered by the snapshot or in the
 *   log): no resolved save is lost;
 * - a save after recovery works and reads back.
 */
import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../../src/domain/consensus/raft';
import { Logger } from '../../../src/application/ports/logger.port';
import { FilesystemRaftStorage } from '../../../src/adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { InMemoryRaftStorage } from '../../../src/adapters/outbound/memory/in-memory-raft-storage';
import { Prng, seededPrng } from '../../../src/domain/shared/prng';
import { PowerLossFileSystem } from './power-loss-file-system';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const DIR = '/data/raft';

type Save = readonly [HardState | undefined, readonly Entry[], Snapshot | undefined];

export interface RaftCrashRunResult {
  readonly savesResolved: number;
  readonly entriesLoaded: number;
}

export async function runRaftStorageCrash(seed: number): Promise<RaftCrashRunResult> {
  const prng = seededPrng(seed);
  const disk = new PowerLossFileSystem({ seed: seed ^ 0x7aff });
  const storage = new FilesystemRaftStorage({ dir: DIR, logger: silent, fs: disk.mount() });
  await storage.load();
  const model = new InMemoryRaftStorage();
  await model.load();
  const states: PersistedRaftState[] = [await model.load()];
  disk.crashAtOperation(1 + prng.nextInt(250));
  let inFlight: PersistedRaftState | null = null;
  for (let step = 0; step < 40 && disk.crashes === 0; step++) {
    const save = nextSave(prng, states[states.length - 1]!, step);
    await model.save(...save);
    const after = await model.load();
    // Sometimes the disk is full for this save: it fails, space comes back, the driver retries it.
    if (prng.nextInt(8) === 0) disk.capacityBytes = disk.usedBytes() + prng.nextInt(200);
    const saved = await storage.save(...save).then(
      () => true,
      () => false,
    );
    disk.capacityBytes = Number.POSITIVE_INFINITY;
    if (!saved && disk.crashes === 0) {
      const retried = await storage.save(...save).then(
        () => true,
        (e: unknown) => (disk.crashes === 0 ? Promise.reject(new Error(`the retried save failed: ${String(e)}`)) : false),
      );
      if (retried) {
        states.push(after);
        continue;
      }
    }
    if (!saved || disk.crashes > 0) {
      inFlight = after; // the power went during this save (or its retry)
      break;
    }
    states.push(after);
  }
  if (disk.crashes === 0) disk.crash();
  const reopened = new FilesystemRaftStorage({ dir: DIR, logger: silent, fs: disk.mount() });
  const loaded = await reopened.load();
  const resolved = states[states.length - 1]!;
  check(loaded, resolved, inFlight ?? resolved);
  const last = lastIndex(loaded);
  const next: Entry = { index: last + 1, term: Math.max(loaded.hardState.term, termAt(loaded, last)), type: 'normal', data: 'after' };
  await reopened.save(undefined, [next]);
  const again = await reopened.load();
  if (lastIndex(again) !== next.index) throw new Error(`a save after recovery did not extend the log to ${next.index}`);
  await reopened.close();
  return { savesResolved: states.length - 1, entriesLoaded: loaded.entries.length };
}

/** A save the driver could make from `state` (terms never decrease, committed entries are never replaced). */
function nextSave(prng: Prng, state: PersistedRaftState, step: number): Save {
  const snapshotIndex = state.snapshot?.index ?? 0;
  const last = lastIndex(state);
  const hs = state.hardState;
  const term = Math.max(hs.term, termAt(state, last), 1);
  const entries = (from: number, count: number, t: number): Entry[] =>
    Array.from({ length: count }, (_, i) => ({ index: from + i, term: t, type: 'normal', data: prng.nextInt(4) === 0 ? new Uint8Array(prng.nextInt(3000)).fill(step) : `s${step}e${from + i}` }));
  const action = prng.nextInt(100);
  if (action < 45) {
    const added = entries(last + 1, 1 + prng.nextInt(5), term);
    const hardState = prng.nextInt(2) === 0 ? { term, vote: hs.vote ?? 'a', commit: hs.commit + prng.nextInt(last + added.length - hs.commit + 1) } : undefined;
    return [hardState, added, undefined];
  }
  if (action < 60 && last > hs.commit) {
    // A new leader's entries replace an uncommitted suffix.
    const from = Math.max(hs.commit, snapshotIndex) + 1 + prng.nextInt(last - Math.max(hs.commit, snapshotIndex));
    return [{ term: term + 1, vote: 'b', commit: hs.commit }, entries(from, 1 + prng.nextInt(4), term + 1), undefined];
  }
  if (action < 75 && hs.commit > snapshotIndex) {
    // Local compaction at an applied (committed) index.
    const index = snapshotIndex + 1 + prng.nextInt(hs.commit - snapshotIndex);
    return [undefined, [], { index, term: termAt(state, index), voters: ['a', 'b', 'c'], data: `state@${index}` }];
  }
  if (action < 85) {
    // A snapshot from the leader, maybe past our log (then the log goes), maybe inside it.
    const index = Math.max(snapshotIndex, hs.commit) + 1 + prng.nextInt(last - hs.commit + 4);
    const snapshotTerm = index <= last && prng.nextInt(2) === 0 ? termAt(state, index) : term + 1;
    return [{ term: Math.max(term, snapshotTerm), vote: hs.vote, commit: index }, [], { index, term: snapshotTerm, voters: ['a', 'b', 'c'], data: `leader@${index}` }];
  }
  return [{ term, vote: hs.vote ?? 'a', commit: hs.commit + prng.nextInt(last - hs.commit + 1) }, [], undefined];
}

function check(loaded: PersistedRaftState, resolved: PersistedRaftState, inFlight: PersistedRaftState): void {
  // `load` raises the commit index to the snapshot's (the snapshot may have landed, the hard state not).
  const raised = loaded.snapshot?.index ?? 0;
  const sameHardState = (a: HardState, b: HardState) => a.term === b.term && a.vote === b.vote && a.commit === Math.max(b.commit, raised);
  if (!sameHardState(loaded.hardState, resolved.hardState) && !sameHardState(loaded.hardState, inFlight.hardState)) {
    throw new Error(`hard state ${JSON.stringify(loaded.hardState)} is neither the saved ${JSON.stringify(resolved.hardState)} nor the one being saved`);
  }
  const snap = (s: PersistedRaftState) => `${s.snapshot?.index ?? 0}/${s.snapshot?.term ?? 0}`;
  if (snap(loaded) !== snap(resolved) && snap(loaded) !== snap(inFlight)) {
    throw new Error(`snapshot ${snap(loaded)} is neither the saved ${snap(resolved)} nor the one being saved ${snap(inFlight)}`);
  }
  for (const entry of loaded.entries) {
    if (!sameEntry(entry, entryAt(resolved, entry.index)) && !sameEntry(entry, entryAt(inFlight, entry.index))) {
      throw new Error(`entry ${entry.index} (term ${entry.term}) was never saved at that index`);
    }
  }
  const loadedSnapshotIndex = loaded.snapshot?.index ?? 0;
  for (const entry of resolved.entries) {
    if (!sameEntry(entry, entryAt(inFlight, entry.index)) || entry.index <= loadedSnapshotIndex) continue;
    if (!sameEntry(entry, entryAt(loaded, entry.index))) throw new Error(`saved entry ${entry.index} (term ${entry.term}) was lost`);
  }
  if (loaded.hardState.commit > lastIndex(loaded)) throw new Error(`commit ${loaded.hardState.commit} is past the log end ${lastIndex(loaded)}`);
}

const lastIndex = (s: PersistedRaftState): number => (s.snapshot?.index ?? 0) + s.entries.length;

function entryAt(s: PersistedRaftState, index: number): Entry | undefined {
  return s.entries[index - (s.snapshot?.index ?? 0) - 1];
}

function termAt(s: PersistedRaftState, index: number): number {
  if (index === (s.snapshot?.index ?? 0)) return s.snapshot?.term ?? 0;
  return entryAt(s, index)?.term ?? 0;
}

function sameEntry(a: Entry, b: Entry | undefined): boolean {
  if (b === undefined || a.index !== b.index || a.term !== b.term || a.type !== b.type) return false;
  if (typeof a.data === 'string' || typeof b.data === 'string') return a.data === b.data;
  return Buffer.from(a.data).equals(Buffer.from(b.data));
}
