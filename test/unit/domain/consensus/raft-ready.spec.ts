import { seededPrng } from '../../../../src/domain/shared/prng';
import { AssertionError } from '../../../../src/domain/shared/assert';
import { RaftNode } from '../../../../src/domain/consensus/raft/raft-node';
import type { RaftConfig } from '../../../../src/domain/consensus/raft/raft-config';
import { logOfTerms, RaftTestNetwork } from './raft-test-network';

const three = ['a', 'b', 'c'];

const config = (overrides: Partial<RaftConfig> = {}): RaftConfig => ({
  id: 'a',
  voters: three,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  prng: seededPrng(1),
  appendEntriesMax: 64,
  inflightMessagesMax: 16,
  entryBytesMax: 16,
  uncommittedEntriesMax: 3,
  committedEntriesPerReadyMax: 64,
  ...overrides,
});

describe('Ready / advance contract', () => {
  it('an idle fresh node has no Ready', () => {
    const node = new RaftNode(config());
    expect(node.hasReady()).toBe(false);
    expect(node.ready()).toBeNull();
  });

  it('a campaign yields the new hard state, the soft state and the vote requests in one Ready', () => {
    const node = new RaftNode(config());
    node.campaign();
    const ready = node.ready();
    expect(ready).toEqual({
      softState: { leaderId: null, role: 'candidate' },
      hardState: { term: 1, vote: 'a', commit: 0 },
      entries: [],
      committedEntries: [],
      messages: [
        { type: 'RequestVote', from: 'a', to: 'b', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 },
        { type: 'RequestVote', from: 'a', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 },
      ],
    });
    node.advance(ready!);
    expect(node.ready()).toBeNull();
  });

  it('unacknowledged entries and committed entries reappear until advance; messages are handed out once', () => {
    const node = new RaftNode(config({ voters: ['a'] }));
    node.campaign();
    node.propose('x');
    const first = node.ready()!;
    expect(first.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(first.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(() => node.ready()).toThrow(AssertionError);
    node.advance(first);
    expect(node.ready()).toBeNull();
  });

  it('advance() with a Ready that is not the pending one is a bug', () => {
    const node = new RaftNode(config());
    node.campaign();
    const ready = node.ready()!;
    expect(() => node.advance({ ...ready })).toThrow(AssertionError);
  });

  it('committed entries are handed out in bounded batches', () => {
    const node = new RaftNode(config({ voters: ['a'], committedEntriesPerReadyMax: 2, uncommittedEntriesMax: 100 }));
    node.campaign();
    for (let i = 0; i < 4; i++) node.propose(`x${i}`);
    const batches: number[][] = [];
    for (let r = node.ready(); r !== null; r = node.ready()) {
      batches.push(r.committedEntries.map((e) => e.index));
      node.advance(r);
    }
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('proposal bounds', () => {
  it('refuses a proposal larger than entryBytesMax', () => {
    const node = new RaftNode(config({ voters: ['a'] }));
    node.campaign();
    expect(node.propose('x'.repeat(9))).toEqual({ ok: false, error: { kind: 'ProposalTooLarge', bytes: 18, bytesMax: 16 } });
    expect(node.propose(new Uint8Array(16)).ok).toBe(true);
  });

  it('refuses proposals beyond uncommittedEntriesMax', () => {
    const node = new RaftNode(config());
    node.campaign();
    node.step({ type: 'RequestVoteResult', from: 'b', to: 'a', term: 1, preVote: false, reject: false });
    expect(node.role).toBe('leader');
    expect(node.propose('1').ok).toBe(true);
    expect(node.propose('2').ok).toBe(true); // with the no-op: 3 uncommitted
    expect(node.propose('3')).toEqual({ ok: false, error: { kind: 'TooManyUncommittedEntries', uncommittedEntriesMax: 3 } });
  });
});

describe('restart from persisted state', () => {
  it('a restarted node keeps its term, vote and log and re-applies what was committed', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    net.node('a').propose('x');
    net.node('a').propose('y');
    net.stabilize();
    net.crash('b');
    net.restart('b');
    const b = net.node('b');
    expect(b.status()).toMatchObject({ role: 'follower', term: 1, vote: 'a', commitIndex: 3, lastIndex: 3, appliedIndex: 0 });
    net.stabilize();
    expect(net.appliedData('b')).toEqual(['x', 'y']);
  });

  it('a restarted node does not vote twice in the same term', () => {
    const net = new RaftTestNetwork({ ids: three, preVote: false, checkQuorum: false });
    net.node('c').step({ type: 'RequestVote', from: 'a', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    net.processReady('c');
    net.crash('c');
    net.restart('c');
    net.node('c').step({ type: 'RequestVote', from: 'b', to: 'c', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0 });
    net.processReady('c');
    const answers = net.inFlight.filter((m) => m.type === 'RequestVoteResult').map((m) => m.type === 'RequestVoteResult' && `${m.to}:${m.reject}`);
    expect(answers).toEqual(['a:false', 'b:true']);
  });

  it('a whole cluster restarted at once elects a leader and loses no committed entry', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    for (const x of ['1', '2', '3']) net.node('a').propose(x);
    net.stabilize();
    for (const id of three) net.crash(id);
    for (const id of three) net.restart(id);
    net.tickAll(40);
    const leader = net.leader();
    expect(leader).not.toBeNull();
    net.node(leader!).propose('4');
    net.stabilize();
    net.tickAll(1);
    for (const id of three) expect(net.appliedData(id)).toEqual(['1', '2', '3', '4']);
  });

  it('refuses persisted state that breaks an invariant', () => {
    expect(() => new RaftNode(config(), { hardState: { term: 1, vote: null, commit: 3 }, snapshot: null, entries: logOfTerms(1, 1), appliedIndex: 0 })).toThrow(AssertionError);
    expect(() => new RaftNode(config(), { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: logOfTerms(1, 2), appliedIndex: 0 })).toThrow(AssertionError);
    expect(() => new RaftNode(config({ electionTicks: 1 }))).toThrow(AssertionError);
  });
});
