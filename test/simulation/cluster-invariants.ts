import type { Entry, HardState, NodeId, RaftMessage, RaftStatus } from '../../src/domain/consensus/raft';
import type { DiskObserver, SimulatedDisk } from './crashable-raft-storage';

/** What the checker may look at on one server (its live incarnation, if any, and its disk). */
export interface ObservedServer {
  readonly id: NodeId;
  readonly disk: SimulatedDisk;
  /** Null while the server is down or its driver has not built the node yet. */
  status(): RaftStatus | null;
  /** Increases on every restart. */
  readonly incarnation: number;
}

const sameEntry = (a: Entry, b: Entry): boolean => a.index === b.index && a.term === b.term && a.type === b.type && a.data === b.data;
const show = (e: Entry | undefined): string => (e === undefined ? 'nothing' : `${e.index}/t${e.term}/${e.type}/${String(e.data)}`);

/**
 * Raft's safety properties over the application stack (driver + storage + transport), after the
 * core's checker (test/unit/domain/consensus/raft-safety-checker.ts) but fed by what the servers
 * persist and apply. History is kept: the leader seen per term, every entry known committed.
 * Checks run where things change — on every durable write, every applied entry, and after every
 * simulation step — so each costs O(change), not O(log). The first violation is kept in
 * `violation` (the simulation stops there) and also thrown to the caller.
 */
export class ClusterInvariants implements DiskObserver {
  violation: string | null = null;
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** committed[i]: the entry at index i + 1 known committed, with the term of the server that knew it. */
  private readonly committed: { readonly entry: Entry; readonly seenAtTerm: number }[] = [];
  /** Log Matching by induction: (index, term) always names the same entry after the same previous term. */
  private readonly entryAt = new Map<string, { readonly entry: Entry; readonly previousTerm: number }>();
  /** (voter, term) → the candidate it granted its vote to, as seen on the wire. */
  private readonly voteOf = new Map<string, NodeId>();
  /** Per server: how much of its durable committed prefix was checked. */
  private readonly checkedCommitOf = new Map<NodeId, number>();
  /** Per server: the incarnation, commit and applied index last seen in its status. */
  private readonly progressOf = new Map<NodeId, { incarnation: number; commit: number; applied: number }>();

  get committedCount(): number {
    return this.committed.length;
  }

  get leadersElected(): number {
    return this.leaderOfTerm.size;
  }

  committedAt(index: number): Entry | undefined {
    return this.committed[index - 1]?.entry;
  }

  // ---- durable writes ----

  beforeWrite(disk: SimulatedDisk, hardState: HardState | undefined, entries: readonly Entry[]): void {
    const old = disk.hardState;
    if (hardState !== undefined) {
      if (hardState.term < old.term) this.fail(`durable term of ${disk.id} decreased: ${old.term} → ${hardState.term}`);
      if (hardState.term === old.term && old.vote !== null && hardState.vote !== old.vote) {
        this.fail(`${disk.id} changed its durable vote in term ${old.term}: ${old.vote} → ${hardState.vote}`);
      }
      if (hardState.commit < old.commit) this.fail(`durable commit of ${disk.id} decreased: ${old.commit} → ${hardState.commit}`);
    }
    const first = entries[0];
    if (first !== undefined && first.index <= disk.log.length && first.index <= old.commit) {
      this.fail(`${disk.id} truncates its log from ${first.index} but its durable commit is ${old.commit}: committed ${show(disk.log[first.index - 1])} would be lost`);
    }
  }

  afterWrite(disk: SimulatedDisk, entries: readonly Entry[]): void {
    const log = disk.log;
    for (const entry of entries) this.learnLogEntry(disk.id, entry, entry.index >= 2 ? (log[entry.index - 2] as Entry).term : 0);
    const commit = disk.hardState.commit;
    if (commit > log.length) this.fail(`durable commit ${commit} of ${disk.id} points past its durable log (last index ${log.length})`);
    for (let i = (this.checkedCommitOf.get(disk.id) ?? 0) + 1; i <= commit; i++) this.learnCommitted(disk.id, log[i - 1] as Entry, disk.hardState.term);
    this.checkedCommitOf.set(disk.id, Math.max(commit, this.checkedCommitOf.get(disk.id) ?? 0));
  }

  // ---- messages, as the sender hands them to the network ----

  /**
   * Persist before send: a message carries the sender's durable term (pre-votes excepted), a
   * granted vote is durable, an accepted append is durable; and a server grants one vote per term.
   */
  sent(message: RaftMessage, senderDisk: SimulatedDisk): void {
    const durable = senderDisk.hardState;
    const preVote = (message.type === 'RequestVote' || message.type === 'RequestVoteResult') && message.preVote;
    if (!preVote && message.term !== durable.term) this.fail(`${message.from} sent ${message.type} in term ${message.term} but its durable term is ${durable.term}`);
    if (message.type === 'RequestVoteResult' && !message.preVote && !message.reject) {
      if (durable.vote !== message.to) this.fail(`${message.from} granted its vote in term ${message.term} to ${message.to} but its durable vote is ${durable.vote}`);
      const key = `${message.from}/${message.term}`;
      const earlier = this.voteOf.get(key);
      if (earlier !== undefined && earlier !== message.to) this.fail(`Election Safety: ${message.from} voted for ${earlier} and ${message.to} in term ${message.term}`);
      this.voteOf.set(key, message.to);
    }
    if (message.type === 'AppendEntriesResult' && !message.reject && senderDisk.log.length < message.index) {
      this.fail(`${message.from} acknowledged entries up to ${message.index} but only ${senderDisk.log.length} are durable`);
    }
  }

  // ---- the state machines ----

  /** `entry` was handed to `id`'s state machine, which had applied `appliedBefore` entries, at `term`. */
  applied(server: ObservedServer, appliedBefore: number, entry: Entry, term: number): void {
    if (entry.index !== appliedBefore + 1) this.fail(`${server.id} was given entry ${show(entry)} after applying ${appliedBefore} entries (gap or repeat)`);
    const stored = server.disk.log[entry.index - 1];
    if (stored === undefined || !sameEntry(stored, entry)) this.fail(`${server.id} applied ${show(entry)} before it was durable (disk has ${show(stored)})`);
    this.learnCommitted(server.id, entry, term);
  }

  // ---- after every step ----

  checkStep(servers: readonly ObservedServer[]): void {
    for (const server of servers) {
      const status = server.status();
      if (status === null) continue;
      const seen = this.progressOf.get(server.id);
      if (seen === undefined || seen.incarnation !== server.incarnation) {
        this.progressOf.set(server.id, { incarnation: server.incarnation, commit: status.commitIndex, applied: status.appliedIndex });
      } else {
        // Within one life, commit and applied indexes only grow (a restart replays from the disk).
        if (status.commitIndex < seen.commit || status.appliedIndex < seen.applied) {
          this.fail(`${server.id} went backward: commit ${seen.commit} → ${status.commitIndex}, applied ${seen.applied} → ${status.appliedIndex}`);
        }
        seen.commit = status.commitIndex;
        seen.applied = status.appliedIndex;
      }
      if (status.role !== 'leader') continue;
      const known = this.leaderOfTerm.get(status.term);
      if (known !== undefined && known !== server.id) this.fail(`Election Safety: ${known} and ${server.id} both led term ${status.term}`);
      if (known === undefined) {
        this.leaderOfTerm.set(status.term, server.id);
        this.leaderCompleteness(server, status.term);
      }
    }
  }

  /** Leader Completeness: a new leader of `term` holds every entry committed in an earlier term. */
  private leaderCompleteness(server: ObservedServer, term: number): void {
    for (const { entry, seenAtTerm } of this.committed) {
      if (seenAtTerm >= term) continue;
      const mine = server.disk.log[entry.index - 1];
      if (mine === undefined || !sameEntry(mine, entry)) {
        this.fail(`Leader Completeness: ${server.id} leads term ${term} with ${show(mine)} where ${show(entry)} was committed (seen at term ${seenAtTerm})`);
      }
    }
  }

  private learnLogEntry(id: NodeId, entry: Entry, previousTerm: number): void {
    const key = `${entry.index}/${entry.term}`;
    const known = this.entryAt.get(key);
    if (known === undefined) this.entryAt.set(key, { entry, previousTerm });
    else if (!sameEntry(known.entry, entry) || known.previousTerm !== previousTerm) {
      this.fail(`Log Matching: ${id} stored ${show(entry)} after term ${previousTerm}, another log has ${show(known.entry)} after term ${known.previousTerm}`);
    }
  }

  /** State Machine Safety and "committed entries never change": one entry per index, ever. */
  private learnCommitted(id: NodeId, entry: Entry, term: number): void {
    const known = this.committed[entry.index - 1];
    if (known !== undefined) {
      if (!sameEntry(known.entry, entry)) this.fail(`State Machine Safety: ${id} has ${show(entry)} committed where ${show(known.entry)} was committed before`);
      return;
    }
    if (entry.index !== this.committed.length + 1) this.fail(`${id} knows ${show(entry)} committed but index ${this.committed.length + 1} was never seen committed`);
    this.committed.push({ entry, seenAtTerm: term });
  }

  private fail(message: string): never {
    this.violation ??= message;
    throw new Error(message);
  }
}
