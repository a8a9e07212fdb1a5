import { Mulberry32Prng, seededPrng } from '../../../../src/domain/shared/prng';
import { committedIndex, quorumActive, quorumSize, voteOutcome } from '../../../../src/domain/consensus/raft/quorum';
import { becomeReplicate, initialProgress, isPaused, maybeDecreaseTo, maybeUpdate, sentAppend } from '../../../../src/domain/consensus/raft/progress';

describe('quorum', () => {
  it('is a strict majority', () => {
    expect([1, 2, 3, 4, 5].map(quorumSize)).toEqual([1, 2, 2, 3, 3]);
  });

  it('commits the highest index held by a majority', () => {
    const match: Record<string, number> = { a: 9, b: 4, c: 7, d: 1, e: 4 };
    expect(committedIndex(['a', 'b', 'c', 'd', 'e'], (id) => match[id] ?? 0)).toBe(4);
    expect(committedIndex(['a', 'c'], (id) => match[id] ?? 0)).toBe(7);
    expect(committedIndex([], () => 5)).toBe(0);
  });

  it('a vote is won with a majority, lost when a majority is out of reach, pending otherwise', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    expect(voteOutcome(voters, new Map([['a', true], ['b', true]]))).toBe('pending');
    expect(voteOutcome(voters, new Map([['a', true], ['b', true], ['c', true]]))).toBe('won');
    expect(voteOutcome(voters, new Map([['a', true], ['b', false], ['c', false], ['d', false]]))).toBe('lost');
    expect(voteOutcome(voters, new Map([['x', true], ['y', true], ['a', true]]))).toBe('pending'); // non-voters do not count
  });

  it('quorumActive counts the active voters', () => {
    expect(quorumActive(['a', 'b', 'c'], (id) => id !== 'c')).toBe(true);
    expect(quorumActive(['a', 'b', 'c'], (id) => id === 'a')).toBe(false);
  });
});

describe('progress', () => {
  it('probe sends one message at a time; replicate is bounded by in-flight messages', () => {
    const probe = initialProgress(10);
    expect(probe).toMatchObject({ next: 11, match: 0, state: 'probe' });
    expect(isPaused(sentAppend(probe, 11), 2)).toBe(true);
    let pr = becomeReplicate({ ...probe, match: 10 });
    pr = sentAppend(pr, 12);
    expect(isPaused(pr, 2)).toBe(false);
    pr = sentAppend(pr, 14);
    expect(pr).toMatchObject({ next: 15, inflight: [12, 14] });
    expect(isPaused(pr, 2)).toBe(true);
  });

  it('acknowledgements only move forward; stale ones are ignored', () => {
    const pr = maybeUpdate(initialProgress(10), 5)!;
    expect(pr).toMatchObject({ match: 5, next: 11 });
    expect(maybeUpdate(pr, 4)).toBeNull();
  });

  it('a refusal backs off to the hint, never to or below match; stale refusals are ignored', () => {
    const pr = { ...initialProgress(10), match: 2 }; // next 11
    expect(maybeDecreaseTo(pr, 10, 5)).toMatchObject({ next: 6 });
    expect(maybeDecreaseTo(pr, 10, 0)).toMatchObject({ next: 3 });
    expect(maybeDecreaseTo(pr, 7, 5)).toBeNull(); // not the probe we sent
    const replicating = becomeReplicate({ ...pr, match: 8 });
    expect(maybeDecreaseTo(replicating, 8, 0)).toBeNull();
    expect(maybeDecreaseTo(replicating, 9, 0)).toMatchObject({ state: 'probe', next: 9 });
  });
});

describe('seeded PRNG', () => {
  it('is deterministic per seed and stays in bounds', () => {
    const a = seededPrng(7);
    const b = new Mulberry32Prng(7);
    const xs = Array.from({ length: 100 }, () => a.nextInt(10));
    expect(Array.from({ length: 100 }, () => b.nextInt(10))).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 10)).toBe(true);
    expect(new Set(xs).size).toBe(10);
    const seven = seededPrng(7);
    const eight = seededPrng(8);
    expect(Array.from({ length: 5 }, () => eight.nextUint32())).not.toEqual(Array.from({ length: 5 }, () => seven.nextUint32()));
  });
});
