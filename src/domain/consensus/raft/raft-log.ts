import { assert } from '../../shared/assert';
import type { Entry, Snapshot } from './raft-message';

/**
 * The node's log, all in memory (docs/style.md "Core": the driver loads what storage holds and hands it over).
 * - the snapshot (`snapshotIndex`, `snapshotTerm`) stands for every entry up to `snapshotIndex`;
 * - stable entries: index ≤ `stableIndex`, known to be persisted;
 * - unstable entries: index > `stableIndex`, to be handed out in a Ready and persisted;
 * - `pendingSnapshot`: a snapshot received from the leader, to be persisted and restored;
 * - `committed`: known to be on a quorum; `applied`: handed to the application and acknowledged.
 * Invariant: snapshotIndex ≤ applied ≤ committed ≤ lastIndex, entries[i].index = snapshotIndex + 1 + i.
 */
export class RaftLog {
  private entries: Entry[];
  private snapshotIndexValue: number;
  private snapshotTermValue: number;
  private stableIndexValue: number;
  private committedValue: number;
  private appliedValue: number;
  private pendingSnapshotValue: Snapshot | null = null;

  private constructor(snapshot: { index: number; term: number }, entries: Entry[], committed: number, applied: number) {
    this.snapshotIndexValue = snapshot.index;
    this.snapshotTermValue = snapshot.term;
    entries.forEach((entry, i) => {
      assert(entry.index === snapshot.index + 1 + i, `log entry ${i} has index ${entry.index} after snapshot ${snapshot.index}`);
      const previousTerm = i === 0 ? snapshot.term : (entries[i - 1]?.term ?? 0);
      assert(entry.term >= 1 && entry.term >= previousTerm, `log terms decrease at index ${entry.index}`);
    });
    this.entries = entries;
    this.stableIndexValue = this.lastIndex();
    assert(committed >= snapshot.index && committed <= this.lastIndex(), `commit ${committed} outside [${snapshot.index}, ${this.lastIndex()}]`);
    assert(applied >= snapshot.index && applied <= committed, `applied ${applied} outside [${snapshot.index}, ${committed}]`);
    this.committedValue = committed;
    this.appliedValue = applied;
  }

  /** A log whose snapshot and entries are all persisted already (a restarted node, or an empty one). */
  static restore(snapshot: { index: number; term: number } | null, entries: readonly Entry[], committed: number, applied: number): RaftLog {
    return new RaftLog(snapshot ?? { index: 0, term: 0 }, [...entries], committed, applied);
  }

  get committed(): number {
    return this.committedValue;
  }

  get applied(): number {
    return this.appliedValue;
  }

  get stableIndex(): number {
    return this.stableIndexValue;
  }

  get snapshotIndex(): number {
    return this.snapshotIndexValue;
  }

  get pendingSnapshot(): Snapshot | null {
    return this.pendingSnapshotValue;
  }

  /** The first index still held as an entry. */
  firstIndex(): number {
    return this.snapshotIndexValue + 1;
  }

  lastIndex(): number {
    return this.snapshotIndexValue + this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.snapshotTermValue;
  }

  /** The term at `index`: known at the snapshot index and after it, undefined before it (compacted) or past the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndexValue) return this.snapshotTermValue;
    if (index < this.snapshotIndexValue) return undefined;
    return this.entries[index - this.snapshotIndexValue - 1]?.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** Entries with index in [from, toExclusive), in a fresh array. */
  slice(from: number, toExclusive: number): Entry[] {
    assert(from >= this.firstIndex() && from <= toExclusive && toExclusive <= this.lastIndex() + 1, `bad log slice [${from}, ${toExclusive}) of [${this.firstIndex()}, ${this.lastIndex()}]`);
    return this.entries.slice(from - this.firstIndex(), toExclusive - this.firstIndex());
  }

  /** The leader appends at the end only (Leader Append-Only, §5.3). */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index} does not continue the log at ${this.lastIndex()}`);
    assert(entry.term >= this.lastTerm(), `append of term ${entry.term} after term ${this.lastTerm()}`);
    this.entries.push(entry);
  }

  /**
   * A follower receives entries after (prevIndex, prevTerm). Returns null when the logs do not
   * match there (§5.3 consistency check); otherwise the last index now known to match the
   * leader. Conflicting entries and all that follow them are deleted; matching ones are kept.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    entries.forEach((entry, i) => assert(entry.index === prevIndex + 1 + i, `AppendEntries entry ${i} has index ${entry.index} after ${prevIndex}`));
    const lastNew = prevIndex + entries.length;
    const conflict = entries.find((entry) => !this.matchTerm(entry.index, entry.term));
    if (conflict !== undefined) {
      assert(conflict.index > this.committedValue, `conflict at ${conflict.index} would erase committed entries (commit ${this.committedValue})`);
      this.entries = this.entries.slice(0, conflict.index - this.firstIndex());
      this.stableIndexValue = Math.min(this.stableIndexValue, conflict.index - 1);
      for (const entry of entries.slice(conflict.index - prevIndex - 1)) this.append(entry);
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** The last index ≤ `index` whose term is ≤ `term` (and that term); (snapshotIndex, 0) when only compacted entries could be. */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    assert(index <= this.lastIndex(), `findConflictByTerm past the end: ${index}`);
    for (let i = index; i >= this.snapshotIndexValue; i--) {
      const t = this.term(i) ?? 0;
      if (t <= term) return { index: i, term: t };
    }
    return { index: Math.min(index, this.snapshotIndexValue), term: 0 };
  }

  /** Commit never moves backwards; asking for less is a no-op. */
  commitTo(index: number): void {
    if (index <= this.committedValue) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond the last index ${this.lastIndex()}`);
    this.committedValue = index;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(Math.max(0, this.stableIndexValue - this.snapshotIndexValue));
  }

  /** Entries up to (index, term) were persisted; ignored if that entry was replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index > this.stableIndexValue && this.matchTerm(index, term)) this.stableIndexValue = index;
  }

  /** Committed entries not yet applied, at most `countMax`, in a fresh array (none while a snapshot waits to be restored). */
  nextCommittedEntries(countMax: number): Entry[] {
    if (this.pendingSnapshotValue !== null) return [];
    const to = Math.min(this.committedValue, this.appliedValue + countMax);
    return this.slice(this.appliedValue + 1, to + 1);
  }

  appliedTo(index: number): void {
    assert(index >= this.appliedValue && index <= this.committedValue, `applied ${index} outside [${this.appliedValue}, ${this.committedValue}]`);
    this.appliedValue = index;
  }

  /**
   * Replace the whole log with a snapshot from the leader (§7): the entries it covers are gone,
   * and it must be persisted and restored by the application before anything is applied.
   */
  restoreSnapshot(snapshot: Snapshot): void {
    assert(snapshot.index > this.committedValue, `snapshot ${snapshot.index} is not ahead of commit ${this.committedValue}`);
    this.entries = [];
    this.snapshotIndexValue = snapshot.index;
    this.snapshotTermValue = snapshot.term;
    this.stableIndexValue = snapshot.index;
    this.committedValue = snapshot.index;
    this.pendingSnapshotValue = snapshot;
  }

  /** The pending snapshot was persisted and restored into the state machine. */
  snapshotApplied(snapshot: Snapshot): void {
    assert(this.pendingSnapshotValue === snapshot, 'the applied snapshot is not the pending one');
    this.pendingSnapshotValue = null;
    this.appliedValue = Math.max(this.appliedValue, snapshot.index);
  }

  /** Drop the entries up to `index`, which the application has captured in a snapshot. */
  compact(index: number): void {
    assert(index > this.snapshotIndexValue, `compaction at ${index} is not after the snapshot ${this.snapshotIndexValue}`);
    assert(index <= this.appliedValue && index <= this.stableIndexValue, `compaction at ${index} beyond applied ${this.appliedValue} or stable ${this.stableIndexValue}`);
    const term = this.term(index);
    assert(term !== undefined, `no term at ${index}`);
    this.entries = this.entries.slice(index - this.snapshotIndexValue);
    this.snapshotIndexValue = index;
    this.snapshotTermValue = term;
  }
}
