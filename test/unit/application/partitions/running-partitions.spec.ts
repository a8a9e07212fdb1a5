import { ConcurrencyLimit, RunningPartitions } from '../../../../src/application/partitions/running-partitions';

interface Entry {
  leader: object | null;
  readonly state: { readonly stream: string };
}

const entry = (stream: string, leader: object | null = null): Entry => ({ leader, state: { stream } });

describe('RunningPartitions', () => {
  it('counts the partitions led here as entries come, take the leader role and go', () => {
    const running = new RunningPartitions<Entry>();
    for (let i = 0; i < 5; i++) running.set(`s/${i}`, entry('s'));
    expect(running.leaders).toBe(0);
    running.setLeader('s/0', {});
    running.setLeader('s/1', {});
    running.setLeader('s/1', {}); // a second role does not count twice
    running.set('s/5', entry('s', {}));
    expect([running.size, running.leaders]).toEqual([6, 3]);
    running.delete('s/1');
    running.delete('s/2');
    running.delete('nope');
    expect([running.size, running.leaders]).toEqual([4, 2]);
    running.set('s/5', entry('s')); // replaced by a follower
    expect(running.leaders).toBe(1);
    running.clear();
    expect([running.size, running.leaders]).toEqual([0, 0]);
    expect(() => running.setLeader('s/9', {})).toThrow(/not running/);
  });

  it('lists the keys of one stream, in the order they started, as entries come and go', () => {
    const running = new RunningPartitions<Entry>();
    running.set('a/0', entry('a'));
    running.set('b/0', entry('b'));
    running.set('a/1', entry('a'));
    running.set('a/0', entry('a', {})); // replaced in place: still listed once, where it was
    expect(running.keysOf('a')).toEqual(['a/0', 'a/1']);
    expect(running.keysOf('b')).toEqual(['b/0']);
    const keys = running.keysOf('a');
    running.delete('a/0');
    expect(keys).toEqual(['a/0', 'a/1']); // a copy: stopping partitions while iterating is safe
    expect(running.keysOf('a')).toEqual(['a/1']);
    running.delete('a/1');
    expect(running.keysOf('a')).toEqual([]);
    running.clear();
    expect(running.keysOf('b')).toEqual([]);
    expect(running.keysOf('never')).toEqual([]);
  });
});

describe('ConcurrencyLimit', () => {
  it('runs at most its limit of tasks at once over every caller, the others in call order, through failures', async () => {
    const limit = new ConcurrencyLimit(2);
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const task = (i: number) => () => {
      started.push(i);
      most = Math.max(most, ++active);
      return new Promise<number>((resolve, reject) =>
        releases.push(() => {
          active--;
          if (i === 1) reject(new Error('task 1 failed'));
          else resolve(i);
        }),
      );
    };
    const results = [0, 1, 2, 3, 4].map((i) => limit.run(task(i)).catch((error: Error) => error.message));
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect(started).toEqual([0, 1]);
    while (releases.length > 0) {
      releases.shift()!();
      await settle();
    }
    expect(await Promise.all(results)).toEqual([0, 'task 1 failed', 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });
});
