import { assert } from '../../shared/assert';
import { decodeConfChange, encodeConfChange, votersAfter } from './conf-change';
import type { ConfChange } from './conf-change';
import type { Result } from '../../shared/result';
import { err, ok } from '../../shared/result';
import { sameHardState, sameSoftState } from './hard-state';
import type { HardState, RaftRole, SoftState } from './hard-state';
import { initialProgress } from './progress';
import type { Progress } from './progress';
import { quorumActive, voteOutcome } from './quorum';
import type { VoteOutcome } from './quorum';
import { assertValidRaftConfig } from './raft-config';
import type { RaftConfig } from './raft-config';
import type { RaftContext } from './raft-context';
import type { ProposalPosition, ProposeError, TransferLeadershipError } from './raft-errors';
import { startLeadershipTransfer } from './leader-transfer';
import { RaftLog } from './raft-log';
import type { Entry, EntryData, NodeId, RaftMessage, RequestVote, Snapshot } from './raft-message';
import { EMPTY_PERSISTED_RAFT_STATE } from './raft-node-state';
import type { PersistedRaftState, RaftStatus } from './raft-node-state';
import type { Ready } from './ready';
import { stepCandidate } from './step-candidate';
import { stepFollower } from './step-follower';
import { broadcastAppend, broadcastHeartbeat, maybeCommit, stepLeader } from './step-leader';

type StepFunction = (ctx: RaftContext, m: RaftMessage) => void;

const entryBytes = (data: EntryData): number => (typeof data === 'string' ? data.length * 2 : data.byteLength);

/**
 * The Raft core, after etcd's `raft` + `RawNode`: synchronous, deterministic, no I/O.
 * Inputs: `tick`, `step`, `propose`, `campaign`. Output: `ready()` then `advance(ready)` (see `Ready`).
 * One step function per role is chosen by each `becomeX` transition.
 */
export class RaftNode implements RaftContext {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly progress = new Map<NodeId, Progress>();
  leaderId: NodeId | null = null;
  electionElapsed = 0;
  leadTransferee: NodeId | null = null;
  snapshot: Snapshot | null;

  private termValue: number;
  private vote: NodeId | null;
  private roleValue: RaftRole = 'follower';
  private stepRole: StepFunction = stepFollower;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private votersValue: readonly NodeId[];
  /** The index of the conf-change entry or snapshot that set the voters (0: the configured ones). */
  private votersIndex: number;
  /** The index of the latest conf-change entry (or of this leader's first entry); no new change until it is applied. */
  private pendingConfIndex = 0;
  private messages: RaftMessage[] = [];
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private pendingReady: Ready | null = null;

  constructor(config: RaftConfig, persisted: PersistedRaftState = EMPTY_PERSISTED_RAFT_STATE) {
    assertValidRaftConfig(config);
    this.id = config.id;
    this.config = config;
    this.votersValue = [...(persisted.snapshot?.voters ?? config.voters)];
    this.votersIndex = persisted.snapshot?.index ?? 0;
    const { hardState } = persisted;
    assert(Number.isSafeInteger(hardState.term) && hardState.term >= 0, `bad persisted term ${hardState.term}`);
    this.log = RaftLog.restore(persisted.snapshot, persisted.entries, hardState.commit, persisted.appliedIndex);
    this.snapshot = persisted.snapshot;
    assert(this.log.lastTerm() <= hardState.term, `persisted log term ${this.log.lastTerm()} is past the persisted term ${hardState.term}`);
    this.termValue = hardState.term;
    this.vote = hardState.vote;
    // The membership as of the commit index: committed changes are in force even before the
    // application re-applies them, so a restarted node never campaigns or counts with stale voters.
    if (this.log.committed >= this.log.firstIndex()) {
      for (const entry of this.log.slice(this.log.firstIndex(), this.log.committed + 1)) {
        if (entry.type === 'conf-change') this.applyVoters(decodeConfChange(entry.data).voters, entry.index);
      }
    }
    this.previousHardState = this.hardState();
    this.resetRandomizedElectionTimeout();
    this.previousSoftState = this.softState();
  }

  get term(): number {
    return this.termValue;
  }

  get role(): RaftRole {
    return this.roleValue;
  }

  get voters(): readonly NodeId[] {
    return this.votersValue;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      term: this.termValue,
      vote: this.vote,
      role: this.roleValue,
      leaderId: this.leaderId,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      voters: [...this.votersValue],
      leadTransferee: this.leadTransferee,
    };
  }

  /** Advance logical time by one tick: election timeouts on followers, heartbeats and CheckQuorum on the leader. */
  tick(): void {
    if (this.roleValue === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Start an election now (pre-vote first when configured). A no-op on a leader or a non-voter. */
  campaign(): void {
    if (this.roleValue === 'leader' || !this.promotable()) return;
    this.startElection(this.config.preVote ? 'pre-vote' : 'vote');
  }

  /**
   * Append `data` to the log if this node leads. The returned position is where it will be
   * committed, if it is; a lost leadership may still discard it.
   */
  propose(data: EntryData): Result<ProposalPosition, ProposeError> {
    if (this.roleValue !== 'leader') return err({ kind: 'NotLeader', leaderId: this.leaderId });
    if (this.leadTransferee !== null) return err({ kind: 'LeadershipTransferInProgress', transferee: this.leadTransferee });
    const bytes = entryBytes(data);
    if (bytes > this.config.entryBytesMax) return err({ kind: 'ProposalTooLarge', bytes, bytesMax: this.config.entryBytesMax });
    if (this.log.lastIndex() - this.log.committed >= this.config.uncommittedEntriesMax) {
      return err({ kind: 'TooManyUncommittedEntries', uncommittedEntriesMax: this.config.uncommittedEntriesMax });
    }
    const position = this.appendAsLeader('normal', data);
    broadcastAppend(this);
    return ok(position);
  }

  /**
   * Propose adding or removing one voter. It takes effect on each node when the entry is
   * applied; until then no other change is accepted.
   */
  proposeConfChange(change: ConfChange): Result<ProposalPosition, ProposeError> {
    if (this.roleValue !== 'leader') return err({ kind: 'NotLeader', leaderId: this.leaderId });
    if (this.leadTransferee !== null) return err({ kind: 'LeadershipTransferInProgress', transferee: this.leadTransferee });
    if (this.pendingConfIndex > this.log.applied) return err({ kind: 'ConfChangeInProgress' });
    const voters = votersAfter(this.votersValue, change);
    if (voters === null) return err({ kind: 'ConfChangeWithoutEffect' });
    const position = this.appendAsLeader('conf-change', encodeConfChange({ change, voters }));
    this.pendingConfIndex = position.index;
    broadcastAppend(this);
    return ok(position);
  }

  /**
   * Hand leadership to `to`, or with null to the most up-to-date voter (leader-transfer.ts). The
   * transfer is under way when this returns ok: proposals are refused until it ends, by this node
   * stepping down (the target won) or by giving up after an election timeout.
   */
  transferLeadership(to: NodeId | null): Result<NodeId, TransferLeadershipError> {
    if (this.roleValue !== 'leader') return err({ kind: 'NotLeader', leaderId: this.leaderId });
    return startLeadershipTransfer(this, to);
  }

  /** Handle one message from a peer. Messages not addressed to this node are a driver bug. */
  step(m: RaftMessage): void {
    assert(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    const termBefore = this.termValue;
    if (m.term > this.termValue) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.termValue) {
      this.answerStaleTerm(m);
      return;
    }
    if (m.type === 'RequestVote') this.handleVoteRequest(m);
    else this.stepRole(this, m);
    this.assertInvariants(termBefore);
  }

  /**
   * The application captured its state up to `index` (≤ the applied index) in `data`: keep it as
   * the snapshot to send to lagging followers and drop the log up to `index`. The driver persists
   * the returned snapshot before compacting its stored log (§7).
   */
  compact(index: number, data: EntryData): Snapshot {
    const term = this.log.term(index);
    assert(term !== undefined, `cannot snapshot at ${index}: no such entry`);
    // The voters are known as of the applied index only.
    assert(index === this.log.applied, `snapshot at ${index} is not at the applied index ${this.log.applied}`);
    this.log.compact(index);
    this.snapshot = { index, term, voters: [...this.votersValue], data };
    return this.snapshot;
  }

  /** True when `ready()` would return work. */
  hasReady(): boolean {
    return (
      this.messages.length > 0 ||
      this.log.pendingSnapshot !== null ||
      this.log.unstableEntries().length > 0 ||
      this.log.committed > this.log.applied ||
      !sameHardState(this.hardState(), this.previousHardState) ||
      !sameSoftState(this.softState(), this.previousSoftState)
    );
  }

  /**
   * The work to do (see `Ready` for the contract), or null if there is none. Call `advance` with
   * it before calling `ready` again. Messages are handed over once; everything else reappears
   * until acknowledged.
   */
  ready(): Ready | null {
    assert(this.pendingReady === null, 'ready() called again before advance()');
    if (!this.hasReady()) return null;
    const softState = this.softState();
    const hardState = this.hardState();
    const snapshot = this.log.pendingSnapshot;
    const ready: Ready = {
      ...(sameSoftState(softState, this.previousSoftState) ? {} : { softState }),
      ...(sameHardState(hardState, this.previousHardState) ? {} : { hardState }),
      ...(snapshot === null ? {} : { snapshot }),
      entries: this.log.unstableEntries(),
      committedEntries: this.log.nextCommittedEntries(this.config.committedEntriesPerReadyMax),
      messages: this.messages,
    };
    this.messages = [];
    this.pendingReady = ready;
    return ready;
  }

  /** Acknowledge that `ready` was fully handled: its entries persisted, its committed entries applied. */
  advance(ready: Ready): void {
    assert(ready === this.pendingReady, 'advance() with a Ready that is not the pending one');
    this.pendingReady = null;
    if (ready.softState !== undefined) this.previousSoftState = ready.softState;
    if (ready.hardState !== undefined) this.previousHardState = ready.hardState;
    if (ready.snapshot !== undefined && this.log.pendingSnapshot === ready.snapshot) {
      this.log.snapshotApplied(ready.snapshot);
      this.applyVoters(ready.snapshot.voters, ready.snapshot.index);
    }
    const lastPersisted = ready.entries[ready.entries.length - 1];
    if (lastPersisted !== undefined) this.log.stableTo(lastPersisted.index, lastPersisted.term);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index);
    for (const entry of ready.committedEntries) if (entry.type === 'conf-change') this.applyVoters(decodeConfChange(entry.data).voters, entry.index);
  }

  // ---- RaftContext: used by the step functions ----

  send(message: RaftMessage): void {
    assert(message.from === this.id && message.to !== this.id, `bad outgoing message ${message.type} ${message.from}→${message.to}`);
    this.messages.push(message);
  }

  becomeFollower(term: number, leaderId: NodeId | null): void {
    this.reset(term);
    this.stepRole = stepFollower;
    this.roleValue = 'follower';
    this.leaderId = leaderId;
  }

  becomeLeader(): void {
    assert(this.roleValue === 'candidate', `${this.roleValue} cannot become leader`);
    this.reset(this.termValue);
    this.stepRole = stepLeader;
    this.roleValue = 'leader';
    this.leaderId = this.id;
    for (const voter of this.voters) this.progress.set(voter, initialProgress(this.log.lastIndex()));
    const self = this.progress.get(this.id);
    assert(self !== undefined, 'a leader is a voter');
    this.progress.set(this.id, { ...self, state: 'replicate', match: this.log.lastIndex(), recentActive: true });
    // §8: an empty entry of the new term lets entries of earlier terms commit (§5.4.2). No
    // membership change before it is applied (the fix to single-server changes, thesis §4.1 and
    // Ongaro's raft-dev note of 2015).
    this.pendingConfIndex = this.appendAsLeader('noop', '').index;
    broadcastAppend(this);
  }

  startElection(kind: 'pre-vote' | 'vote', transfer = false): void {
    assert(this.roleValue !== 'leader', 'a leader does not campaign');
    let electionTerm: number;
    if (kind === 'pre-vote') {
      this.votes.clear();
      this.stepRole = stepCandidate;
      this.roleValue = 'pre-candidate';
      this.leaderId = null;
      electionTerm = this.termValue + 1;
    } else {
      this.reset(this.termValue + 1);
      this.stepRole = stepCandidate;
      this.roleValue = 'candidate';
      this.vote = this.id;
      electionTerm = this.termValue;
    }
    if (this.recordVote(this.id, true) === 'won') {
      if (kind === 'pre-vote') this.startElection('vote');
      else this.becomeLeader();
      return;
    }
    for (const voter of this.voters) {
      if (voter === this.id) continue;
      const request = { type: 'RequestVote', from: this.id, to: voter, term: electionTerm, preVote: kind === 'pre-vote', lastLogIndex: this.log.lastIndex(), lastLogTerm: this.log.lastTerm() } as const;
      this.send(transfer ? { ...request, leadershipTransfer: true } : request);
    }
  }

  recordVote(from: NodeId, granted: boolean): VoteOutcome {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteOutcome(this.voters, this.votes);
  }

  // ---- internals ----

  private hardState(): HardState {
    return { term: this.termValue, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { leaderId: this.leaderId, role: this.roleValue };
  }

  /** Switch to the voter set of an applied conf-change entry or snapshot at `index`, unless a later one is in force. */
  private applyVoters(voters: readonly NodeId[], index: number): void {
    if (index <= this.votersIndex) return;
    this.votersIndex = index;
    this.votersValue = [...voters];
    if (this.roleValue === 'leader') {
      if (this.leadTransferee !== null && !voters.includes(this.leadTransferee)) this.leadTransferee = null;
      if (!voters.includes(this.id)) {
        // The removal of this leader is committed: hand over by letting the others time out.
        this.becomeFollower(this.termValue, null);
        return;
      }
      for (const id of [...this.progress.keys()]) if (!voters.includes(id)) this.progress.delete(id);
      for (const id of voters) if (!this.progress.has(id)) this.progress.set(id, { ...initialProgress(this.log.lastIndex()), recentActive: true });
      maybeCommit(this); // a smaller quorum may commit more
      broadcastAppend(this);
    } else if (this.roleValue !== 'follower') {
      // A vote counted against the old voters means nothing now.
      this.becomeFollower(this.termValue, null);
    }
  }

  promotable(): boolean {
    return this.voters.includes(this.id);
  }

  private reset(term: number): void {
    assert(term >= this.termValue, `term would decrease: ${this.termValue} → ${term}`);
    if (term !== this.termValue) {
      this.termValue = term;
      this.vote = null;
    }
    this.leaderId = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.progress.clear();
    this.leadTransferee = null;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.prng.nextInt(this.config.electionTicks);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      // A transfer that did not finish within an election timeout is given up (etcd does the same).
      this.leadTransferee = null;
      if (this.config.checkQuorum) {
        // CheckQuorum (thesis §6.2): a leader cut off from a majority steps down.
        if (!quorumActive(this.voters, (id) => id === this.id || this.progress.get(id)?.recentActive === true)) {
          this.becomeFollower(this.termValue, null);
          return;
        }
        for (const [id, pr] of this.progress) if (id !== this.id) this.progress.set(id, { ...pr, recentActive: false });
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      broadcastHeartbeat(this);
    }
  }

  /** A message from a higher term. Returns false when it must be ignored. */
  private acceptHigherTerm(m: RaftMessage): boolean {
    if (m.type === 'RequestVote' && m.leadershipTransfer !== true) {
      // With CheckQuorum, a node that heard from a live leader within the election timeout
      // ignores vote requests: a partitioned node rejoining cannot depose it (thesis §4.2.3).
      // A candidate the leader handed over to is the exception (leader-transfer.ts).
      const inLease = this.config.checkQuorum && this.leaderId !== null && this.electionElapsed < this.config.electionTicks;
      if (inLease) return false;
    }
    const keepsTerm = (m.type === 'RequestVote' && m.preVote) || (m.type === 'RequestVoteResult' && m.preVote && !m.reject);
    if (!keepsTerm) {
      const fromLeader = m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot';
      this.becomeFollower(m.term, fromLeader ? m.from : null);
    }
    return true;
  }

  private answerStaleTerm(m: RaftMessage): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot')) {
      // A stale leader would otherwise never learn the new term: with pre-vote or check-quorum
      // this node may never send it a higher-term vote request (etcd raft.go, same case).
      this.send({ type: 'HeartbeatResult', from: this.id, to: m.from, term: this.termValue });
    } else if (m.type === 'RequestVote' && m.preVote) {
      this.send({ type: 'RequestVoteResult', from: this.id, to: m.from, term: this.termValue, preVote: true, reject: true });
    }
  }

  /** §5.2, §5.4.1: one vote per term, only for a candidate whose log is at least as up to date. */
  private handleVoteRequest(m: RequestVote): void {
    const canVote = this.vote === m.from || (this.vote === null && this.leaderId === null) || (m.preVote && m.term > this.termValue);
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      assert(this.roleValue !== 'leader' || m.preVote, 'a leader never votes for another node in its term');
      this.send({ type: 'RequestVoteResult', from: this.id, to: m.from, term: m.term, preVote: m.preVote, reject: false });
      if (!m.preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: 'RequestVoteResult', from: this.id, to: m.from, term: this.termValue, preVote: m.preVote, reject: true });
    }
  }

  private appendAsLeader(type: Entry['type'], data: EntryData): ProposalPosition {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.termValue, type, data };
    this.log.append(entry);
    const self = this.progress.get(this.id);
    assert(self !== undefined, 'a leader tracks its own progress');
    this.progress.set(this.id, { ...self, match: entry.index, next: entry.index + 1 });
    maybeCommit(this);
    return { index: entry.index, term: entry.term };
  }

  private assertInvariants(termBefore: number): void {
    assert(this.termValue >= termBefore, `term decreased: ${termBefore} → ${this.termValue}`);
    assert(this.log.committed <= this.log.lastIndex(), `commit ${this.log.committed} beyond last index ${this.log.lastIndex()}`);
    assert(this.roleValue !== 'leader' || this.vote === this.id, 'a leader has voted for itself in its term');
  }
}
