import { LeaderWitnesses } from '../../../../src/application/cluster/leader-witnesses';

const REF = { stream: 's', partition: 0 };
const report = (replica: string, leaderEpoch = 7, leader = 'a') => ({ replica, leader, leaderEpoch });

describe('LeaderWitnesses (witnesses > (|ISR| - 1) / 2)', () => {
  it('needs both followers of an ISR of three, the one follower of an ISR of two', () => {
    const w = new LeaderWitnesses(3000);
    expect(w.record(REF, report('b'), 3, 0)).toBe(false);
    expect(w.record(REF, report('b'), 3, 500)).toBe(false); // the same follower again is still one witness
    expect(w.record(REF, report('c'), 3, 1000)).toBe(true);
    const two = new LeaderWitnesses(3000);
    expect(two.record({ stream: 't', partition: 1 }, report('b'), 2, 0)).toBe(true);
  });

  it('forgets a report older than the leader timeout', () => {
    const w = new LeaderWitnesses(3000);
    w.record(REF, report('b'), 3, 0);
    expect(w.record(REF, report('c'), 3, 3001)).toBe(false);
    expect(w.count(REF)).toBe(1);
    expect(w.record(REF, report('b'), 3, 3500)).toBe(true);
  });

  it('starts over for another leader generation', () => {
    const w = new LeaderWitnesses(3000);
    w.record(REF, report('b', 7), 3, 0);
    expect(w.record(REF, report('c', 8, 'b'), 3, 100)).toBe(false);
    expect(w.count(REF)).toBe(1);
  });

  it('drops what prune does not keep, and everything on clear', () => {
    const w = new LeaderWitnesses(3000);
    w.record(REF, report('b'), 3, 0);
    w.record({ stream: 't', partition: 0 }, report('b'), 3, 0);
    w.prune((ref) => ref.stream === 't');
    expect([w.count(REF), w.count({ stream: 't', partition: 0 })]).toEqual([0, 1]);
    w.clear();
    expect(w.count({ stream: 't', partition: 0 })).toBe(0);
  });
});
