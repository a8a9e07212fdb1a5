import { backoffDelay, withRetry } from '../../../src/client/retry';

const policy = { attempts: 3, backoffMs: 1, maxBackoffMs: 4 };

describe('withRetry', () => {
  it('retries retriable failures up to the attempt bound, refreshing in between', async () => {
    let calls = 0;
    let refreshes = 0;
    const error = new Error('transient');
    await expect(
      withRetry(policy, async () => {
        calls += 1;
        throw error;
      }, () => true, async () => {
        refreshes += 1;
      }),
    ).rejects.toBe(error);
    expect(calls).toBe(3);
    expect(refreshes).toBe(2);
  });

  it('returns the first success and stops at a non-retriable error', async () => {
    let calls = 0;
    expect(await withRetry(policy, async (n) => {
      calls += 1;
      if (n < 1) throw new Error('once');
      return 'ok';
    }, () => true)).toBe('ok');
    expect(calls).toBe(2);
    calls = 0;
    await expect(withRetry(policy, async () => {
      calls += 1;
      throw new Error('fatal');
    }, () => false)).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('backs off exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay({ attempts: 9, backoffMs: 50, maxBackoffMs: 300 }, n))).toEqual([50, 100, 200, 300, 300]);
  });
});
