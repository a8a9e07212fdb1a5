import { AssertionError } from '../../../../src/domain/shared/assert';
import type { InstallSnapshot } from '../../../../src/domain/consensus/raft/raft-message';
import { RaftSafetyChecker } from './raft-safety-checker';
import { logOfTerms, RaftTestNetwork } from './raft-test-network';

const three = ['a', 'b', 'c'];

function leaderWithCompactedLog(): { net: RaftTestNetwork; checker: RaftSafetyChecker } {
  const net = new RaftTestNetwork({ ids: three });
  const checker = new RaftSafetyChecker(net);
  net.elect('a');
  net.isolate('c');
  for (let i = 0; i < 10; i++) net.node('a').propose(`x${i}`);
  net.stabilize();
  net.tickAll(1);
  checker.check();
  expect(net.compact('a')).toBe(true);
  expect(net.compact('b')).toBe(true);
  checker.check();
  return { net, checker };
}

describe('§7 log compaction and InstallSnapshot', () => {
  it('compaction drops the log up to the applied index and keeps the snapshot', () => {
    const { net } = leaderWithCompactedLog();
    const a = net.node('a');
    expect(a.log.firstIndex()).toBe(12);
    expect(a.snapshot).toMatchObject({ index: 11, term: 1 });
    expect(net.store('a').entries).toEqual([]);
  });

  it('a follower that lags behind the compacted log catches up from the snapshot', () => {
    const { net, checker } = leaderWithCompactedLog();
    net.heal();
    net.tickAll(3);
    checker.check();
    expect(net.sent.some((m) => m.type === 'InstallSnapshot' && m.to === 'c')).toBe(true);
    expect(net.store('c').snapshot).toMatchObject({ index: 11, term: 1 });
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
    net.node('a').propose('after');
    net.stabilize();
    net.tickAll(1);
    checker.check();
    for (const id of three) expect(net.appliedData(id).slice(-2)).toEqual(['x9', 'after']);
  });

  it('a lost snapshot is sent again once the follower answers a heartbeat', () => {
    const { net } = leaderWithCompactedLog();
    net.heal();
    net.tick('a');
    for (let i = 0; i < 20; i++) {
      net.processReady('a');
      net.processReady('c');
      if (net.inFlight.some((m) => m.type === 'InstallSnapshot')) break;
      if (net.inFlight.length > 0) net.deliverAt(0);
    }
    const lost = net.inFlight.findIndex((m) => m.type === 'InstallSnapshot');
    expect(lost).toBeGreaterThanOrEqual(0);
    net.inFlight.splice(lost, 1);
    net.stabilize();
    net.tickAll(3);
    expect(net.appliedData('c')).toEqual(net.appliedData('a'));
  });

  it('a node restarted from its snapshot and the entries after it loses nothing', () => {
    const { net } = leaderWithCompactedLog();
    net.heal();
    net.node('a').propose('y');
    net.stabilize();
    net.tickAll(1);
    net.crash('b');
    net.restart('b');
    expect(net.node('b').status()).toMatchObject({ appliedIndex: 11, lastIndex: 12, term: 1, vote: 'a' });
    net.tickAll(2);
    expect(net.appliedData('b')).toEqual(net.appliedData('a'));
    expect(net.appliedData('b')).toHaveLength(11);
  });

  it('an InstallSnapshot the follower\'s log already covers only moves its commit forward', () => {
    const persisted = { b: { hardState: { term: 1, vote: null, commit: 1 }, entries: logOfTerms(1, 1, 1) } };
    const net = new RaftTestNetwork({ ids: three, persisted });
    const b = net.node('b');
    const message: InstallSnapshot = { type: 'InstallSnapshot', from: 'a', to: 'b', term: 1, snapshot: { index: 2, term: 1, voters: three, data: '[]' } };
    b.step(message);
    expect(b.status()).toMatchObject({ commitIndex: 2, lastIndex: 3 });
    const ready = b.ready()!;
    expect(ready.snapshot).toBeUndefined();
    expect(ready.messages).toEqual([{ type: 'AppendEntriesResult', from: 'b', to: 'a', term: 1, reject: false, index: 2, rejectHintIndex: 0, rejectHintTerm: 0 }]);
  });

  it('a snapshot that replaces the log is persisted and restored before any entry is applied', () => {
    const net = new RaftTestNetwork({ ids: three });
    const b = net.node('b');
    b.step({ type: 'InstallSnapshot', from: 'a', to: 'b', term: 2, snapshot: { index: 5, term: 2, voters: three, data: 'state' } });
    const ready = b.ready()!;
    expect(ready.snapshot).toEqual({ index: 5, term: 2, voters: three, data: 'state' });
    expect(ready.committedEntries).toEqual([]);
    expect(ready.hardState).toEqual({ term: 2, vote: null, commit: 5 });
    b.advance(ready);
    expect(b.status()).toMatchObject({ appliedIndex: 5, commitIndex: 5, lastIndex: 5, lastTerm: 2 });
  });

  it('compacting beyond what was applied is a bug', () => {
    const net = new RaftTestNetwork({ ids: three });
    net.elect('a');
    net.node('a').propose('x');
    expect(() => net.node('a').compact(2, 'state')).toThrow(AssertionError);
  });
});
