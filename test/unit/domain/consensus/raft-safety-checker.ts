import type { Entry, NodeId } from '../../../../src/domain/consensus/raft/raft-message';
import type { RaftTestNetwork } from './raft-test-network';

const sameEntry = (a: Entry, b: Entry): boolean => a.index === b.index && a.term === b.term && a.type === b.type && a.data === b.data;

const describeEntry = (e: Entry | undefined): string => (e === undefined ? 'nothing' : `${e.index}/t${e.term}/${e.type}/${String(e.data)}`);

/**
 * The Raft paper's safety properties (Figure 3), checked against a RaftTestNetwork after every
 * step. It remembers history: leaders seen per term, entries ever known committed, terms per node.
 * `check()` throws an Error naming the broken property.
 */
export class RaftSafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Entries known committed, in order, with the term of the node that first saw them committed. */
  private readonly committed: { entry: Entry; seenAtTerm: number }[] = [];
  private readonly termOf = new Map<NodeId, number>();
  private readonly persistedCommitOf = new Map<NodeId, number>();

  constructor(private readonly net: RaftTestNetwork) {}

  get committedCount(): number {
    return this.committed.length;
  }

  check(): void {
    this.electionSafety();
    this.termsNeverDecrease();
    this.committedEntriesNeverChange();
    this.leaderCompleteness();
    this.logMatching();
    this.stateMachineSafety();
  }

  /** Election Safety: at most one leader can be elected in a given term. */
  private electionSafety(): void {
    for (const id of this.net.leaders()) {
      const term = this.net.node(id).term;
      const known = this.leaderOfTerm.get(term);
      if (known !== undefined && known !== id) throw new Error(`Election Safety: ${known} and ${id} both led term ${term}`);
      this.leaderOfTerm.set(term, id);
    }
  }

  private termsNeverDecrease(): void {
    for (const id of this.net.ids) {
      const store = this.net.store(id);
      // The persisted term never decreases, across crashes too (an unpersisted term may be lost; the core asserts the in-memory one).
      const term = store.hardState.term;
      if (term < (this.termOf.get(id) ?? 0)) throw new Error(`persisted term of ${id} decreased: ${this.termOf.get(id)} → ${term}`);
      this.termOf.set(id, term);
      if (store.hardState.commit < (this.persistedCommitOf.get(id) ?? 0)) throw new Error(`persisted commit of ${id} decreased`);
      this.persistedCommitOf.set(id, store.hardState.commit);
    }
  }

  /** Committed entries are never lost or changed on the node that knows them committed. */
  private committedEntriesNeverChange(): void {
    for (const id of this.liveIds()) {
      const node = this.net.node(id);
      const commit = node.status().commitIndex;
      const entries = node.log.slice(node.log.firstIndex(), Math.max(commit, node.log.snapshotIndex) + 1);
      entries.forEach((entry) => {
        const known = this.committed[entry.index - 1];
        if (known === undefined) {
          // Only contiguous knowledge is recorded; a gap is filled by a node that still holds it.
          if (entry.index === this.committed.length + 1) this.committed.push({ entry, seenAtTerm: node.term });
        } else if (!sameEntry(known.entry, entry)) throw new Error(`committed entry changed on ${id}: ${describeEntry(known.entry)} became ${describeEntry(entry)}`);
      });
    }
  }

  /** Leader Completeness: a leader holds every entry committed in an earlier term. */
  private leaderCompleteness(): void {
    for (const id of this.net.leaders()) {
      const node = this.net.node(id);
      for (const { entry, seenAtTerm } of this.committed) {
        // Entries below the snapshot were applied before being compacted, and checked then.
        if (seenAtTerm >= node.term || entry.index < node.log.firstIndex()) continue;
        const mine = entry.index <= node.log.lastIndex() ? node.log.slice(entry.index, entry.index + 1)[0] : undefined;
        if (mine === undefined || !sameEntry(mine, entry)) {
          throw new Error(`Leader Completeness: leader ${id} of term ${node.term} has ${describeEntry(mine)} where ${describeEntry(entry)} was committed`);
        }
      }
    }
  }

  /** Log Matching: if two logs hold an entry with the same index and term, they are identical up to it. */
  private logMatching(): void {
    const logs = this.liveIds().map((id) => {
      const log = this.net.node(id).log;
      return { id, first: log.firstIndex(), entries: log.slice(log.firstIndex(), log.lastIndex() + 1) };
    });
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a]!;
        const y = logs[b]!;
        const at = (log: typeof x, index: number): Entry => log.entries[index - log.first]!;
        const lo = Math.max(x.first, y.first);
        let i = Math.min(x.first + x.entries.length, y.first + y.entries.length) - 1;
        while (i >= lo && at(x, i).term !== at(y, i).term) i--;
        for (let k = lo; k <= i; k++) {
          if (!sameEntry(at(x, k), at(y, k))) {
            throw new Error(`Log Matching: ${x.id} and ${y.id} agree at ${i} but differ at ${k}: ${describeEntry(at(x, k))} vs ${describeEntry(at(y, k))}`);
          }
        }
      }
    }
  }

  /** State Machine Safety: no node applies a different entry at an index; only committed entries are applied. */
  private stateMachineSafety(): void {
    for (const id of this.net.ids) {
      this.net.appliedBy(id).forEach((entry, i) => {
        const known = this.committed[i];
        if (known === undefined) throw new Error(`State Machine Safety: ${id} applied ${describeEntry(entry)} before anyone knew it committed`);
        if (!sameEntry(known.entry, entry)) throw new Error(`State Machine Safety: ${id} applied ${describeEntry(entry)} where ${describeEntry(known.entry)} was committed`);
      });
    }
  }

  private liveIds(): NodeId[] {
    return this.net.ids.filter((id) => !this.net.crashed.has(id));
  }
}
