import { seededPrng } from '../../../../src/domain/shared/prng';
import { RaftNode } from '../../../../src/domain/consensus/raft/raft-node';
import type { RaftMessage } from '../../../../src/domain/consensus/raft/raft-message';
import { RaftSafetyChecker } from './raft-safety-checker';
import { logOfTerms, RaftTestNetwork } from './raft-test-network';

const three = ['a', 'b', 'c'];
const five = ['a', 'b', 'c', 'd', 'e'];

/** Messages a node produced, from its next Ready (which is then acknowledged). */
function drain(node: RaftNode): RaftMessage[] {
  const ready = node.ready();
  if (ready === null) return [];
  node.advance(ready);
  return [...ready.messages];
}

describe('§5.2 leader election', () => {
  it('a follower campaigns after a randomized timeout in [electionTicks, 2 × electionTicks)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const net = new RaftTestNetwork({ ids: three, seed, preVote: false });
      const node = net.node('a');
      let ticks = 0;
      while (node.role === 'follower') {
        node.tick();
        ticks++;
      }
      expect(node.role).toBe('candidate');
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(3); // really randomized across seeds
  });

  it('the same seed yields the same election (deterministic core)', () => {
    const run = (): string[] => {
      const net = new RaftTestNetwork({ ids: five, seed: 42 });
      net.tickAll(40);
      return net.ids.map((id) => `${id}:${net.node(id).role}:${net.node(id).term}`);
    };
    expect(run()).toEqual(run());
  });

  it('a candidate that wins a majority becomes leader, the others follow it', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false });
    net.elect('a');
    expect(net.node('a').term).toBe(1);
    expect(net.node('b').status()).toMatchObject({ role: 'follower', leaderId: 'a', term: 1, vote: 'a' });
    expect(net.node('c').status()).toMatchObject({ role: 'follower', leaderId: 'a', term: 1, vote: 'a' });
  });

  it('a single-node cluster elects itself on campaign and commits its proposals at once', () => {
    const net = new RaftTestNetwork({ ids: ['solo'] });
    net.elect('solo');
    const position = net.node('solo').propose('x');
    expect(position).toEqual({ ok: true, value: { index: 2, term: 1 } });
    net.stabilize();
    expect(net.appliedData('solo')).toEqual(['x']);
  });

  it('a candidate without a majority does not become leader, and retries in a later term', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false });
    net.isolate('a');
    net.campaign('a');
    expect(net.node('a').status()).toMatchObject({ role: 'candidate', term: 1 });
    net.tick('a', 20);
    net.stabilize();
    expect(net.node('a').term).toBe(2);
    expect(net.leaders()).toEqual([]);
  });

  it('Election Safety: at most one leader per term, even with simultaneous candidates', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new RaftTestNetwork({ ids: five, seed, preVote: false, checkQuorum: false });
      const checker = new RaftSafetyChecker(net);
      const prng = seededPrng(seed);
      // Everyone campaigns at once, and messages arrive in a random order.
      for (const id of five) net.node(id).campaign();
      for (let step = 0; step < 2000; step++) {
        for (const id of five) net.processReady(id);
        if (net.inFlight.length > 0) net.deliverAt(prng.nextInt(net.inFlight.length));
        else for (const id of five) net.tick(id);
        checker.check();
      }
      expect(net.leaders().length).toBeGreaterThanOrEqual(1);
    }
  });

  it('a node grants at most one vote per term', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false });
    const c = net.node('c');
    c.step({ type: 'RequestVote', from: 'a', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    c.step({ type: 'RequestVote', from: 'b', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    c.step({ type: 'RequestVote', from: 'a', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    const answers = drain(c).map((m) => (m.type === 'RequestVoteResult' ? `${m.to}:${m.reject ? 'no' : 'yes'}` : m.type));
    expect(answers).toEqual(['a:yes', 'b:no', 'a:yes']);
    expect(c.status().vote).toBe('a');
  });

  it('§5.4.1 a voter refuses a candidate whose log is less up to date', () => {
    const persisted = { c: { hardState: { term: 2, vote: null, commit: 0 }, entries: logOfTerms(1, 2) } };
    const net = new RaftTestNetwork({ ids: three, preVote: false, persisted });
    const c = net.node('c');
    c.step({ type: 'RequestVote', from: 'a', to: 'c', term: 3, preVote: false, lastLogIndex: 5, lastLogTerm: 1 }); // older last term
    c.step({ type: 'RequestVote', from: 'b', to: 'c', term: 3, preVote: false, lastLogIndex: 1, lastLogTerm: 2 }); // same term, shorter
    const answers = drain(c).map((m) => (m.type === 'RequestVoteResult' ? m.reject : null));
    expect(answers).toEqual([true, true]);
    c.step({ type: 'RequestVote', from: 'b', to: 'c', term: 3, preVote: false, lastLogIndex: 2, lastLogTerm: 2 });
    expect(drain(c).map((m) => (m.type === 'RequestVoteResult' ? m.reject : null))).toEqual([false]);
  });

  it('a node that sees a higher term becomes a follower of that term with no vote', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false });
    net.elect('a');
    const a = net.node('a');
    a.step({ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 7, reject: false, index: 0, rejectHintIndex: 0, rejectHintTerm: 0 });
    expect(a.status()).toMatchObject({ role: 'follower', term: 7, vote: null, leaderId: null });
  });

  it('messages from a stale term are ignored (a stale leader is told the new term)', () => {
    const net = new RaftTestNetwork({ ids: three, checkQuorum: false });
    net.elect('a');
    net.elect('b'); // term 2
    const b = net.node('b');
    b.step({ type: 'AppendEntries', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 });
    expect(b.status()).toMatchObject({ role: 'leader', term: 2 });
    expect(drain(b)).toEqual([{ type: 'HeartbeatResult', from: 'b', to: 'a', term: 2 }]);
  });

  it('a leader never votes for another node in its term', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false, checkQuorum: false });
    net.elect('a');
    const a = net.node('a');
    a.step({ type: 'RequestVote', from: 'b', to: 'a', term: 1, preVote: false, lastLogIndex: 100, lastLogTerm: 1 });
    expect(drain(a).filter((m) => m.type === 'RequestVoteResult')).toEqual([{ type: 'RequestVoteResult', from: 'a', to: 'b', term: 1, preVote: false, reject: true }]);
    expect(a.status()).toMatchObject({ role: 'leader', vote: 'a' });
  });

  it('a leader steps down when a higher-term vote request wins (no CheckQuorum)', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false, checkQuorum: false });
    net.elect('a');
    net.elect('b');
    expect(net.node('a').status()).toMatchObject({ role: 'follower', term: 2, leaderId: 'b' });
  });
});

describe('PreVote (thesis §9.6)', () => {
  it('a pre-candidate does not increase its term; it does once it wins the pre-vote', () => {
    const net = new RaftTestNetwork({ ids: three });
    const a = net.node('a');
    a.campaign();
    expect(a.status()).toMatchObject({ role: 'pre-candidate', term: 0 });
    net.processReady('a');
    expect(net.inFlight.map((m) => m.type === 'RequestVote' && m.preVote && m.term)).toEqual([1, 1]);
    net.stabilize();
    expect(a.status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('a partitioned node keeps its term, and rejoining does not disrupt the leader', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    expect(net.node('c').status()).toMatchObject({ role: 'pre-candidate', term: 1 });
    net.heal();
    net.tickAll(30);
    expect(net.leader()).toBe('a');
    expect(net.node('a').term).toBe(1);
    expect(net.node('c').status()).toMatchObject({ role: 'follower', leaderId: 'a', term: 1 });
  });

  it('without PreVote the same partition forces a new election with a higher term', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false, checkQuorum: false });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    expect(net.node('c').term).toBeGreaterThan(1);
    net.heal();
    net.tickAll(60);
    expect(net.node('a').term).toBeGreaterThan(1);
  });

  it('a pre-vote is refused to a candidate whose log is behind', () => {
    const persisted = { b: { hardState: { term: 1, vote: null, commit: 0 }, entries: logOfTerms(1) }, c: { hardState: { term: 1, vote: null, commit: 0 }, entries: logOfTerms(1) } };
    const net = new RaftTestNetwork({ ids: three, persisted });
    net.campaign('a');
    expect(net.node('a').status()).toMatchObject({ role: 'follower', term: 1 });
    expect(net.leaders()).toEqual([]);
  });
});

describe('CheckQuorum (thesis §6.2)', () => {
  it('a leader that has not heard from a quorum for electionTicks steps down', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    net.isolate('a');
    net.tick('a', 10);
    net.stabilize();
    expect(net.node('a').status()).toMatchObject({ role: 'leader' }); // it was active in the first round
    net.tick('a', 10);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', leaderId: null, term: 1 });
  });

  it('a leader with a quorum stays leader', () => {
    const net = new RaftTestNetwork({ ids: five });
    net.elect('a');
    net.isolate('e');
    net.isolate('d');
    net.tickAll(50);
    expect(net.leader()).toBe('a');
    expect(net.node('a').term).toBe(1);
  });

  it('a follower that heard from its leader recently ignores vote requests (leader lease)', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false });
    net.elect('a');
    const b = net.node('b');
    b.step({ type: 'RequestVote', from: 'c', to: 'b', term: 5, preVote: false, lastLogIndex: 10, lastLogTerm: 1 });
    expect(b.status()).toMatchObject({ term: 1, leaderId: 'a', vote: 'a' });
    expect(drain(b)).toEqual([]);
  });

  it('the minority side of a partition cannot elect a leader; the majority side can', () => {
    const net = new RaftTestNetwork({ ids: five });
    net.elect('a');
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    net.tickAll(60);
    expect(net.node('a').role).not.toBe('leader');
    expect(net.node('b').role).not.toBe('leader');
    const leader = net.leader();
    expect(['c', 'd', 'e']).toContain(leader);
  });
});
