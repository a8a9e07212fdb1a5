import { RaftSafetyChecker } from './raft-safety-checker';
import { RaftTestNetwork } from './raft-test-network';

const three = ['a', 'b', 'c'];

/** A three-node group led by `a` with one proposal applied everywhere. */
function ledByA(options: { preVote?: boolean; checkQuorum?: boolean } = {}): { net: RaftTestNetwork; checker: RaftSafetyChecker } {
  const net = new RaftTestNetwork({ ids: three, ...options });
  const checker = new RaftSafetyChecker(net);
  net.elect('a');
  net.node('a').propose('x');
  net.stabilize();
  checker.check();
  return { net, checker };
}

describe('thesis §3.10 leadership transfer', () => {
  it.each([
    ['pre-vote and check-quorum', { preVote: true, checkQuorum: true }],
    ['neither', { preVote: false, checkQuorum: false }],
  ])('hands leadership to an up-to-date follower in one election, keeping every entry (%s)', (_name, options) => {
    const { net, checker } = ledByA(options);
    expect(net.node('a').transferLeadership('b')).toEqual({ ok: true, value: 'b' });
    net.stabilize(); // no tick: the target campaigns on TimeoutNow, not on a timeout
    checker.check();
    expect(net.leaders()).toEqual(['b']);
    expect(net.node('b').term).toBe(2);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', leaderId: 'b', leadTransferee: null });
    // The target skipped pre-vote: its only vote requests are real ones marked as a transfer.
    const votes = net.sent.filter((m) => m.type === 'RequestVote' && m.from === 'b');
    expect(votes.map((m) => m.type === 'RequestVote' && [m.preVote, m.leadershipTransfer])).toEqual([[false, true], [false, true]]);
    net.node('b').propose('y');
    net.stabilize();
    for (const id of three) expect(net.appliedData(id)).toEqual(['x', 'y']);
  });

  it('voters inside their CheckQuorum lease vote for a transfer candidate, not for a plain one', () => {
    const { net } = ledByA({ preVote: false, checkQuorum: true });
    const b = net.node('b');
    const request = { type: 'RequestVote', from: 'c', to: 'b', term: 2, preVote: false, lastLogIndex: 2, lastLogTerm: 1 } as const;
    b.step(request);
    expect(b.status()).toMatchObject({ term: 1, leaderId: 'a' }); // ignored: b heard from a leader recently
    b.step({ ...request, leadershipTransfer: true });
    expect(b.status()).toMatchObject({ term: 2, vote: 'c' });
    expect(b.ready()?.messages).toEqual([{ type: 'RequestVoteResult', from: 'b', to: 'c', term: 2, preVote: false, reject: false }]);
  });

  it('brings a lagging target up to date before telling it to campaign', () => {
    const { net, checker } = ledByA();
    net.isolate('c');
    for (const data of ['y', 'z']) net.node('a').propose(data);
    net.stabilize();
    net.heal();
    expect(net.node('c').status().lastIndex).toBeLessThan(net.node('a').status().lastIndex);
    net.node('a').transferLeadership('c');
    const timeoutNowAt = (): number => net.sent.findIndex((m) => m.type === 'TimeoutNow');
    net.stabilize();
    checker.check();
    const caughtUp = net.sent.findIndex((m) => m.type === 'AppendEntriesResult' && m.from === 'c' && !m.reject && m.index === 4);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNowAt()).toBeGreaterThan(caughtUp);
    expect(net.leaders()).toEqual(['c']);
    expect(net.appliedData('c')).toEqual(['x', 'y', 'z']);
  });

  it('refuses proposals and membership changes while a transfer is under way', () => {
    const { net } = ledByA();
    net.isolate('b');
    net.node('a').transferLeadership('b');
    expect(net.node('a').propose('during')).toEqual({ ok: false, error: { kind: 'LeadershipTransferInProgress', transferee: 'b' } });
    expect(net.node('a').proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' })).toEqual({
      ok: false,
      error: { kind: 'LeadershipTransferInProgress', transferee: 'b' },
    });
  });

  it('gives a transfer up after one election timeout, and takes proposals again', () => {
    const { net } = ledByA(); // electionTicks 10
    net.isolate('b');
    net.node('a').transferLeadership('b');
    net.stabilize(); // the TimeoutNow to b is lost
    net.tick('a', 9);
    expect(net.node('a').status().leadTransferee).toBe('b');
    net.tick('a', 1);
    expect(net.node('a').status()).toMatchObject({ role: 'leader', leadTransferee: null });
    expect(net.node('a').propose('after').ok).toBe(true);
  });

  it('without a target, picks the voter with the longest log among those heard from recently', () => {
    const { net } = ledByA();
    net.isolate('b');
    net.node('a').propose('y');
    net.stabilize();
    net.heal();
    expect(net.node('a').transferLeadership(null)).toEqual({ ok: true, value: 'c' });
  });

  it('refuses a follower, itself, a stranger, and a group of one', () => {
    const { net } = ledByA();
    expect(net.node('b').transferLeadership('c')).toEqual({ ok: false, error: { kind: 'NotLeader', leaderId: 'a' } });
    expect(net.node('a').transferLeadership('a')).toEqual({ ok: false, error: { kind: 'InvalidTransferTarget', nodeId: 'a' } });
    expect(net.node('a').transferLeadership('z')).toEqual({ ok: false, error: { kind: 'InvalidTransferTarget', nodeId: 'z' } });
    const solo = new RaftTestNetwork({ ids: ['solo'] });
    solo.elect('solo');
    expect(solo.node('solo').transferLeadership(null)).toEqual({ ok: false, error: { kind: 'NoTransferTarget' } });
  });

  it('a transfer ends when its target stops being a voter', () => {
    const { net } = ledByA();
    net.isolate('c');
    net.node('a').proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' });
    net.node('a').transferLeadership('c');
    // The removal was proposed before the transfer began, so it commits (a and b) and applies.
    net.stabilize();
    expect(net.node('a').status()).toMatchObject({ role: 'leader', voters: ['a', 'b'], leadTransferee: null });
  });

  it('a node that is not a voter ignores TimeoutNow', () => {
    const net = new RaftTestNetwork({ ids: ['a', 'b', 'c', 'd'], voters: ['a', 'b', 'c'] });
    net.elect('a');
    net.node('d').step({ type: 'TimeoutNow', from: 'a', to: 'd', term: 1 });
    expect(net.node('d').status().role).toBe('follower');
    expect(net.node('d').ready()?.messages ?? []).toEqual([]);
  });
});
