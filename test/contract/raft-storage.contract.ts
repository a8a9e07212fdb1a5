/**
 * The published contract of `RaftStorage` (src/application/ports/raft-storage.port.ts). Every
 * adapter runs it from a runner of its own:
 *
 *   describeRaftStorageContract('my-adapter', async () => {
 *     const make = () => new MyRaftStorage(...same data...);
 *     return { storage: make(), reopen: async () => make(), cleanup: async () => {...} };
 *   });
 *
 * `make` is called once per test and must return fresh, empty storage (not yet loaded). `reopen`
 * (optional) returns storage over the same data, as after a restart; tests close the previous
 * instance first. Tests call `load()` before saving, as the driver does.
 */
import type { Entry, HardState, PersistedRaftState, Snapshot } from '../../src/domain/consensus/raft';
import { EMPTY_PERSISTED_RAFT_STATE, RaftNode } from '../../src/domain/consensus/raft';
import type { RaftConfig } from '../../src/domain/consensus/raft';
import { seededPrng } from '../../src/domain/shared/prng';
import { RaftStorage } from '../../src/application/ports/raft-storage.port';

export interface RaftStorageContractHarness {
  readonly storage: RaftStorage;
  readonly reopen?: () => Promise<RaftStorage>;
  readonly cleanup: () => Promise<void>;
}

export type MakeRaftStorage = () => Promise<RaftStorageContractHarness>;

export const anEntry = (index: number, term: number, data: Entry['data'] = `e${index}t${term}`, type: Entry['type'] = 'normal'): Entry => ({ index, term, type, data });

/** Entries `from..to` (inclusive) of one term. */
export const entriesOf = (from: number, to: number, term: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => anEntry(from + i, term));

export const aSnapshot = (index: number, term: number, data: Snapshot['data'] = `state@${index}`): Snapshot => ({ index, term, voters: ['a', 'b', 'c'], data });

const singleVoterConfig = (): RaftConfig => ({
  id: 'a',
  voters: ['a'],
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  prng: seededPrng(1),
  appendEntriesMax: 64,
  inflightMessagesMax: 16,
  entryBytesMax: 1024,
  uncommittedEntriesMax: 16,
  committedEntriesPerReadyMax: 64,
});

/** Persists every Ready as the driver does (save before advance). */
async function drain(node: RaftNode, storage: RaftStorage): Promise<void> {
  for (let ready = node.ready(); ready !== null; ready = node.ready()) {
    await storage.save(ready.hardState, ready.entries, ready.snapshot);
    node.advance(ready);
  }
}

const indexTerms = (state: PersistedRaftState): [number, number][] => state.entries.map((e) => [e.index, e.term]);

export function describeRaftStorageContract(name: string, make: MakeRaftStorage): void {
  describe(`RaftStorage contract: ${name}`, () => {
    let harness: RaftStorageContractHarness;
    let storage: RaftStorage;

    beforeEach(async () => {
      harness = await make();
      storage = harness.storage;
      await storage.load();
    });
    afterEach(async () => {
      await storage.close();
      await harness.cleanup();
    });

    /** Closes and reopens when the adapter can (the state must survive), else loads again. */
    async function restart(): Promise<PersistedRaftState> {
      if (harness.reopen === undefined) return storage.load();
      await storage.close();
      storage = await harness.reopen();
      return storage.load();
    }

    it('loads an empty state from empty storage', async () => {
      expect(await storage.load()).toEqual(EMPTY_PERSISTED_RAFT_STATE);
    });

    it('round-trips hard state and entries of every type and data kind', async () => {
      const hardState: HardState = { term: 3, vote: 'b', commit: 2 };
      const entries = [
        anEntry(1, 1, '', 'noop'),
        anEntry(2, 2, new Uint8Array([0, 1, 2, 255])),
        anEntry(3, 3, '{"voters":["a","b"]}', 'conf-change'),
        anEntry(4, 3, 'ünïcødé ✓'),
        anEntry(5, 3, new Uint8Array(0)),
      ];
      await storage.save(hardState, entries);
      const expected: PersistedRaftState = { hardState, snapshot: null, entries, appliedIndex: 0 };
      expect(await storage.load()).toEqual(expected);
      expect(await restart()).toEqual(expected);
    });

    it('appends across saves and leaves the hard state alone when it is undefined', async () => {
      await storage.save({ term: 1, vote: 'a', commit: 0 }, entriesOf(1, 2, 1));
      await storage.save(undefined, entriesOf(3, 4, 1));
      await storage.save({ term: 1, vote: 'a', commit: 3 }, []);
      const state = await restart();
      expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 3 });
      expect(indexTerms(state)).toEqual([[1, 1], [2, 1], [3, 1], [4, 1]]);
    });

    it('overwrites a suffix: an entry at an index ≤ the last index truncates from there first', async () => {
      await storage.save({ term: 1, vote: null, commit: 0 }, entriesOf(1, 5, 1));
      await storage.save({ term: 2, vote: null, commit: 0 }, entriesOf(3, 3, 2));
      expect(indexTerms(await storage.load())).toEqual([[1, 1], [2, 1], [3, 2]]);
      await storage.save(undefined, entriesOf(4, 6, 2));
      await storage.save({ term: 3, vote: null, commit: 1 }, entriesOf(2, 2, 3));
      expect(indexTerms(await storage.load())).toEqual([[1, 1], [2, 3]]);
      const state = await restart();
      expect(indexTerms(state)).toEqual([[1, 1], [2, 3]]);
      expect(state.entries[1]?.data).toBe('e2t3');
      await storage.save(undefined, entriesOf(1, 1, 4));
      expect(indexTerms(await restart())).toEqual([[1, 4]]);
    });

    it('rejects a gap or non-consecutive entries and writes nothing', async () => {
      await storage.save({ term: 1, vote: null, commit: 0 }, entriesOf(1, 2, 1));
      await expect(storage.save({ term: 9, vote: null, commit: 0 }, entriesOf(4, 5, 1))).rejects.toThrow(/gap/);
      await expect(storage.save(undefined, [anEntry(3, 1), anEntry(5, 1)])).rejects.toThrow(/consecutive/);
      const state = await storage.load();
      expect(state.hardState.term).toBe(1);
      expect(indexTerms(state)).toEqual([[1, 1], [2, 1]]);
    });

    it('a snapshot replaces the prefix up to its index and keeps the matching entries after it', async () => {
      await storage.save({ term: 1, vote: null, commit: 4 }, entriesOf(1, 5, 1));
      const snapshot = aSnapshot(3, 1, new Uint8Array([7, 7, 7]));
      await storage.save(undefined, [], snapshot);
      const expected: PersistedRaftState = { hardState: { term: 1, vote: null, commit: 4 }, snapshot, entries: entriesOf(4, 5, 1), appliedIndex: 3 };
      expect(await storage.load()).toEqual(expected);
      expect(await restart()).toEqual(expected);
      // The log goes on after the snapshot, and a suffix can still be overwritten.
      await storage.save({ term: 2, vote: null, commit: 4 }, entriesOf(5, 6, 2));
      expect(indexTerms(await restart())).toEqual([[4, 1], [5, 2], [6, 2]]);
      // Entries already covered by the snapshot are ignored.
      await storage.save(undefined, [...entriesOf(2, 3, 1), anEntry(4, 1)]);
      expect(indexTerms(await storage.load())).toEqual([[4, 1]]);
    });

    it('a snapshot whose entry the log does not hold discards the whole log (Raft §7)', async () => {
      await storage.save({ term: 2, vote: null, commit: 1 }, entriesOf(1, 4, 1));
      await storage.save({ term: 3, vote: null, commit: 3 }, [], aSnapshot(3, 2));
      let state = await restart();
      expect(state.snapshot?.index).toBe(3);
      expect(state.entries).toEqual([]);
      await storage.save(undefined, [], aSnapshot(8, 3));
      state = await restart();
      expect([state.snapshot?.index, state.entries, state.appliedIndex]).toEqual([8, [], 8]);
      expect(state.hardState.commit).toBe(8); // raised to the snapshot index
    });

    it('restarts a Raft node from what its Readies persisted (RaftNode accepts the loaded state)', async () => {
      let node = new RaftNode(singleVoterConfig(), await storage.load());
      node.campaign();
      await drain(node, storage);
      for (const data of ['x', 'y', 'z']) {
        node.propose(data);
        await drain(node, storage);
      }
      await storage.save(undefined, [], node.compact(4, 'applied up to 4'));
      node.propose('w');
      await drain(node, storage);
      const before = node.status();
      node = new RaftNode(singleVoterConfig(), await restart());
      const after = node.status();
      expect([after.term, after.vote, after.lastIndex, after.lastTerm, after.commitIndex]).toEqual([before.term, before.vote, before.lastIndex, before.lastTerm, before.commitIndex]);
      expect(before.lastIndex).toBe(5);
    });

    it('a snapshot and the entries after it can arrive in one save; an older snapshot is rejected', async () => {
      await storage.save({ term: 1, vote: null, commit: 2 }, entriesOf(1, 2, 1));
      await storage.save({ term: 2, vote: null, commit: 10 }, entriesOf(11, 12, 2), aSnapshot(10, 2));
      expect(indexTerms(await restart())).toEqual([[11, 2], [12, 2]]);
      await expect(storage.save(undefined, [], aSnapshot(5, 1))).rejects.toThrow(/older/);
      const state = await storage.load();
      expect(state.snapshot?.index).toBe(10);
      expect(state.snapshot?.voters).toEqual(['a', 'b', 'c']);
      expect(state.snapshot?.data).toBe('state@10');
    });
  });
}
