import { RaftSafetyChecker } from './raft-safety-checker';
import { RaftTestNetwork } from './raft-test-network';

const world = ['a', 'b', 'c', 'd'];
const initialVoters = ['a', 'b', 'c'];

function clusterWithLeaderA(): { net: RaftTestNetwork; checker: RaftSafetyChecker } {
  const net = new RaftTestNetwork({ ids: world, voters: initialVoters });
  const checker = new RaftSafetyChecker(net);
  net.elect('a');
  net.tickAll(1); // the no-op is applied: the leader may now change the membership
  return { net, checker };
}

describe('single-server membership changes (thesis §4.1)', () => {
  it('a new node joins as a voter: it catches up, then counts in the quorum', () => {
    const { net, checker } = clusterWithLeaderA();
    net.node('a').propose('x');
    expect(net.node('a').proposeConfChange({ type: 'AddVoter', nodeId: 'd' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(2);
    checker.check();
    for (const id of world) expect(net.node(id).voters).toEqual(['a', 'b', 'c', 'd']);
    expect(net.appliedData('d')).toEqual(['x']);
    // Four voters: a quorum is three. a, b, d commit without c …
    net.isolate('c');
    net.node('a').propose('y');
    net.stabilize();
    net.tickAll(1);
    expect(net.appliedData('a')).toEqual(['x', 'y']);
    // … but a and d alone cannot.
    net.isolate('b');
    net.node('a').propose('z');
    net.stabilize();
    expect(net.appliedData('a')).toEqual(['x', 'y']);
    checker.check();
  });

  it('one change at a time: a second change waits until the first is applied', () => {
    const { net } = clusterWithLeaderA();
    const a = net.node('a');
    expect(a.proposeConfChange({ type: 'AddVoter', nodeId: 'd' }).ok).toBe(true);
    expect(a.proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' })).toEqual({ ok: false, error: { kind: 'ConfChangeInProgress' } });
    net.stabilize();
    net.tickAll(1);
    expect(a.proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' }).ok).toBe(true);
  });

  it('a new leader accepts no change before an entry of its own term is applied', () => {
    const net = new RaftTestNetwork({ ids: world, voters: initialVoters });
    const a = net.node('a');
    a.campaign();
    net.processReady('a');
    for (const voter of ['b', 'c']) a.step({ type: 'RequestVoteResult', from: voter, to: 'a', term: 1, preVote: true, reject: false });
    for (const voter of ['b', 'c']) a.step({ type: 'RequestVoteResult', from: voter, to: 'a', term: 1, preVote: false, reject: false });
    expect(a.role).toBe('leader');
    expect(a.proposeConfChange({ type: 'AddVoter', nodeId: 'd' })).toEqual({ ok: false, error: { kind: 'ConfChangeInProgress' } });
  });

  it('changes without effect are refused', () => {
    const { net } = clusterWithLeaderA();
    const a = net.node('a');
    expect(a.proposeConfChange({ type: 'AddVoter', nodeId: 'b' })).toEqual({ ok: false, error: { kind: 'ConfChangeWithoutEffect' } });
    expect(a.proposeConfChange({ type: 'RemoveVoter', nodeId: 'd' })).toEqual({ ok: false, error: { kind: 'ConfChangeWithoutEffect' } });
    expect(net.node('b').proposeConfChange({ type: 'AddVoter', nodeId: 'd' })).toEqual({ ok: false, error: { kind: 'NotLeader', leaderId: 'a' } });
  });

  it('removing a follower shrinks the quorum, and the removed node never campaigns', () => {
    const { net, checker } = clusterWithLeaderA();
    expect(net.node('a').proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(1);
    expect(net.node('a').voters).toEqual(['a', 'b']);
    net.isolate('c');
    const termOfC = net.node('c').term;
    net.tickAll(100);
    expect(net.node('c').status()).toMatchObject({ role: 'follower', term: termOfC });
    net.node('a').propose('x');
    net.stabilize();
    net.tickAll(1);
    expect(net.appliedData('b')).toEqual(['x']);
    checker.check();
  });

  it('a removed leader steps down once the removal is applied, and the others elect a new one', () => {
    const { net, checker } = clusterWithLeaderA();
    expect(net.node('a').proposeConfChange({ type: 'RemoveVoter', nodeId: 'a' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(1);
    expect(net.node('a').role).toBe('follower');
    net.tickAll(60);
    checker.check();
    const leader = net.leader();
    expect(['b', 'c']).toContain(leader);
    net.node(leader!).propose('after');
    net.stabilize();
    net.tickAll(1);
    expect(net.appliedData('b')).toEqual(['after']);
    expect(net.appliedData('c')).toEqual(['after']);
  });

  it('the membership survives restarts and travels in snapshots to a node that joins later', () => {
    const { net, checker } = clusterWithLeaderA();
    net.node('a').proposeConfChange({ type: 'RemoveVoter', nodeId: 'c' });
    net.stabilize();
    net.tickAll(1);
    net.node('a').propose('x');
    net.stabilize();
    net.tickAll(1);
    expect(net.compact('a')).toBe(true);
    expect(net.node('a').snapshot?.voters).toEqual(['a', 'b']);
    net.crash('b');
    net.restart('b');
    expect(net.node('b').voters).toEqual(['a', 'b']); // from its log, before re-applying anything
    net.tickAll(1);
    net.node('a').proposeConfChange({ type: 'AddVoter', nodeId: 'd' });
    net.stabilize();
    net.tickAll(3);
    expect(net.sent.some((m) => m.type === 'InstallSnapshot' && m.to === 'd')).toBe(true);
    expect(net.node('d').voters).toEqual(['a', 'b', 'd']);
    expect(net.appliedData('d')).toEqual(['x']);
    checker.check();
  });
});
