import { RunningPartitions } from '../../../../src/application/partitions/running-partitions';

interface Entry {
  leader: object | null;
}

describe('RunningPartitions', () => {
  it('counts the partitions led here as entries come, take the leader role and go', () => {
    const running = new RunningPartitions<Entry>();
    for (let i = 0; i < 5; i++) running.set(`s/${i}`, { leader: null });
    expect(running.leaders).toBe(0);
    running.setLeader('s/0', {});
    running.setLeader('s/1', {});
    running.setLeader('s/1', {}); // a second role does not count twice
    running.set('s/5', { leader: {} });
    expect([running.size, running.leaders]).toEqual([6, 3]);
    running.delete('s/1');
    running.delete('s/2');
    running.delete('nope');
    expect([running.size, running.leaders]).toEqual([4, 2]);
    running.set('s/5', { leader: null }); // replaced by a follower
    expect(running.leaders).toBe(1);
    running.clear();
    expect([running.size, running.leaders]).toEqual([0, 0]);
    expect(() => running.setLeader('s/9', {})).toThrow(/not running/);
  });
});
