import { RaftNode } from '../../../../src/domain/consensus/raft/raft-node';
import type { Entry, RaftMessage } from '../../../../src/domain/consensus/raft/raft-message';
import { RaftSafetyChecker } from './raft-safety-checker';
import { logOfTerms, RaftTestNetwork } from './raft-test-network';

const three = ['a', 'b', 'c'];

function drain(node: RaftNode): RaftMessage[] {
  const ready = node.ready();
  if (ready === null) return [];
  node.advance(ready);
  return [...ready.messages];
}

const terms = (entries: readonly Entry[]): number[] => entries.map((e) => e.term);

describe('§5.3 log replication', () => {
  it('a proposal on the leader is replicated, committed and applied on every node', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    expect(net.node('a').propose('x').ok).toBe(true);
    expect(net.node('a').propose(new Uint8Array([1, 2])).ok).toBe(true);
    net.stabilize();
    net.tickAll(1); // the heartbeat carries the new commit index to the followers
    for (const id of three) {
      expect(net.appliedData(id)).toEqual(['x', new Uint8Array([1, 2])]);
      expect(net.node(id).status().commitIndex).toBe(3);
    }
  });

  it('a proposal on a follower is refused with the leader to forward to', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    expect(net.node('b').propose('x')).toEqual({ ok: false, error: { kind: 'NotLeader', leaderId: 'a' } });
    expect(new RaftTestNetwork({ ids: three }).node('b').propose('x')).toEqual({ ok: false, error: { kind: 'NotLeader', leaderId: null } });
  });

  it('the consistency check refuses entries whose predecessor does not match, with a backtracking hint', () => {
    const persisted = { b: { hardState: { term: 3, vote: null, commit: 1 }, entries: logOfTerms(1, 2, 2, 3) } };
    const net = new RaftTestNetwork({ ids: three, persisted });
    const b = net.node('b');
    b.step({ type: 'AppendEntries', from: 'a', to: 'b', term: 4, prevLogIndex: 4, prevLogTerm: 4, entries: [], commit: 1 });
    expect(drain(b)).toEqual([{ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 4, reject: true, index: 4, rejectHintIndex: 4, rejectHintTerm: 3 }]);
    b.step({ type: 'AppendEntries', from: 'a', to: 'b', term: 4, prevLogIndex: 9, prevLogTerm: 2, entries: [], commit: 1 });
    expect(drain(b)).toEqual([{ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 4, reject: true, index: 9, rejectHintIndex: 3, rejectHintTerm: 2 }]);
  });

  it('a follower deletes a conflicting suffix and appends the leader\'s entries, keeping matching ones', () => {
    const persisted = { b: { hardState: { term: 3, vote: null, commit: 1 }, entries: logOfTerms(1, 2, 2, 3) } };
    const net = new RaftTestNetwork({ ids: three, persisted });
    const b = net.node('b');
    const leaderEntries: Entry[] = [
      { index: 2, term: 2, type: 'normal', data: 't2i2' },
      { index: 3, term: 4, type: 'normal', data: 'new' },
    ];
    b.step({ type: 'AppendEntries', from: 'a', to: 'b', term: 4, prevLogIndex: 1, prevLogTerm: 1, entries: leaderEntries, commit: 3 });
    const ready = b.ready();
    expect(ready?.entries).toEqual([leaderEntries[1]]); // only the changed suffix needs persisting
    expect(ready?.hardState).toEqual({ term: 4, vote: null, commit: 3 });
    expect(ready?.messages).toEqual([{ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 4, reject: false, index: 3, rejectHintIndex: 0, rejectHintTerm: 0 }]);
    expect(b.status()).toMatchObject({ lastIndex: 3, lastTerm: 4, commitIndex: 3 });
  });

  it('Log Matching: divergent followers (Figure 7) converge on the leader\'s log, with few round trips', () => {
    const leaderLog = logOfTerms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    const persisted = {
      a: { hardState: { term: 6, vote: null, commit: 0 }, entries: leaderLog },
      b: { hardState: { term: 6, vote: null, commit: 0 }, entries: logOfTerms(1, 1, 1, 4) },
      c: { hardState: { term: 6, vote: null, commit: 0 }, entries: logOfTerms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6) },
      d: { hardState: { term: 6, vote: null, commit: 0 }, entries: logOfTerms(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3) },
      e: { hardState: { term: 6, vote: null, commit: 0 }, entries: logOfTerms(1, 1, 1, 4, 4, 4, 4) },
    };
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const net = new RaftTestNetwork({ ids, persisted });
    const checker = new RaftSafetyChecker(net);
    net.elect('a');
    net.tickAll(3);
    checker.check();
    const expected = [...terms(leaderLog), 7];
    for (const id of ids) expect(terms(net.store(id).entries)).toEqual(expected);
    // Fast backtracking: d's 8 conflicting entries of terms 2–3 are skipped in a couple of rejections, not 8.
    const rejectionsFromD = net.sent.filter((m) => m.type === 'AppendEntriesResult' && m.from === 'd' && m.reject);
    expect(rejectionsFromD.length).toBeLessThanOrEqual(3);
  });

  it('§5.4.2 (Figure 8): an entry of an earlier term is not committed by counting replicas', () => {
    const persisted = {
      a: { hardState: { term: 2, vote: null, commit: 1 }, entries: logOfTerms(1, 2) },
      b: { hardState: { term: 2, vote: null, commit: 1 }, entries: logOfTerms(1, 2) },
      c: { hardState: { term: 2, vote: null, commit: 1 }, entries: logOfTerms(1) },
    };
    // a wins term 3 and appends its no-op at index 3; b acknowledges index 2 (term 2) but not the no-op yet.
    const fresh = new RaftTestNetwork({ ids: three, persisted, preVote: false });
    const leader = fresh.node('a');
    leader.campaign();
    fresh.processReady('a');
    for (const voter of ['b', 'c']) leader.step({ type: 'RequestVoteResult', from: voter, to: 'a', term: 3, preVote: false, reject: false });
    expect(leader.role).toBe('leader');
    leader.step({ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 3, reject: false, index: 2, rejectHintIndex: 0, rejectHintTerm: 0 });
    expect(leader.status().commitIndex).toBe(1); // a and b hold index 2, but it is from term 2
    leader.step({ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 3, reject: false, index: 3, rejectHintIndex: 0, rejectHintTerm: 0 });
    expect(leader.status().commitIndex).toBe(3); // the no-op of term 3 commits index 2 with it
  });

  it('Leader Append-Only: a leader never overwrites or deletes entries in its log', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    const a = net.node('a');
    for (let i = 0; i < 5; i++) a.propose(`x${i}`);
    const before = a.log.slice(1, a.log.lastIndex() + 1);
    // A follower claims conflicting entries: the leader ignores followers' logs for its own.
    a.step({ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 1, reject: true, index: 3, rejectHintIndex: 1, rejectHintTerm: 1 });
    a.step({ type: 'AppendEntries', from: 'c', to: 'a', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 1, type: 'normal', data: 'evil' }], commit: 0 });
    net.stabilize();
    expect(a.log.slice(1, before.length + 1)).toEqual(before);
  });

  it('Leader Completeness: a node missing committed entries cannot be elected', () => {
    const net = new RaftTestNetwork({ ids: three, checkQuorum: false });
    net.elect('a');
    net.isolate('c');
    net.node('a').propose('committed');
    net.stabilize();
    net.tickAll(1);
    expect(net.appliedData('a')).toEqual(['committed']);
    net.heal();
    net.isolate('a');
    net.campaign('c');
    expect(net.node('c').role).not.toBe('leader');
    net.campaign('b');
    expect(net.node('b').role).toBe('leader');
    net.tickAll(2);
    expect(net.appliedData('c')).toEqual(['committed']);
  });

  it('State Machine Safety: after leader changes and lost messages every node applies the same sequence', () => {
    const net = new RaftTestNetwork({ ids: ['a', 'b', 'c', 'd', 'e'], checkQuorum: false });
    const checker = new RaftSafetyChecker(net);
    net.elect('a');
    net.node('a').propose('1');
    net.stabilize();
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    net.node('a').propose('lost'); // cannot commit: no quorum
    net.stabilize();
    net.elect('c');
    net.node('c').propose('2');
    net.stabilize();
    checker.check();
    net.heal();
    net.tickAll(5);
    net.node('c').propose('3');
    net.stabilize();
    net.tickAll(2);
    checker.check();
    for (const id of net.ids) expect(net.appliedData(id)).toEqual(['1', '2', '3']);
  });

  it('followers learn the commit index from heartbeats, never beyond what they hold', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    net.node('a').propose('x');
    net.stabilize();
    expect(net.node('b').status().commitIndex).toBe(2);
    net.cut('a', 'c');
    const a = net.node('a');
    a.propose('y');
    net.stabilize();
    expect(a.status().commitIndex).toBe(3);
    net.tick('a');
    const heartbeats = drain(a).filter((m) => m.type === 'Heartbeat');
    expect(heartbeats.find((m) => m.to === 'c')).toMatchObject({ commit: 2 }); // c is known to hold only up to 2
    expect(heartbeats.find((m) => m.to === 'b')).toMatchObject({ commit: 3 });
  });

  it('a follower that lost appends catches up from heartbeats (probe, then replicate)', () => {
    const net = new RaftTestNetwork({ ids: three, appendEntriesMax: 2, inflightMessagesMax: 2 });
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.node('a').propose(`x${i}`);
    net.stabilize();
    net.tickAll(5);
    net.heal();
    net.tickAll(5);
    expect(net.appliedData('c')).toHaveLength(20);
    expect(net.store('c').entries).toEqual(net.store('a').entries);
  });
});
