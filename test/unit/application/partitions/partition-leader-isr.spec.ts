import { AckError, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import type { PartitionLog } from '../../../../src/application/ports/partition-log.port';
import { IsrRequest, LeaderHarness, startLeader, SUBJECT } from './partition-leader-fixture';

/**
 * ISR changes a partition leader asks the controller for, on virtual time (docs/replication.md
 * "ISR changes"; Kafka's ISR rules): a follower that stopped fetching, or fetches without catching
 * up, for longer than maxLagTime (10 s here, checked every 2.5 s) is proposed for removal; one
 * out of the ISR that caught up is proposed for re-admission. The ISR used for commits is the one
 * the metadata records (`updateIsr`), except that a proposed re-admission counts at once.
 */

const MAX_LAG_MS = 10_000;
const HEALTH_CHECK_MS = MAX_LAG_MS / 4;

/** Answers the test settles by hand, one per request. */
function heldAnswers(): { answer: (r: IsrRequest) => Promise<boolean>; settle(value: boolean | Error): void } {
  const pending: ((value: boolean | Error) => void)[] = [];
  return {
    answer: () => new Promise((resolve, reject) => pending.push((v) => (v instanceof Error ? reject(v) : resolve(v)))),
    settle: (value) => pending.shift()!(value),
  };
}

/** For `ms` of virtual time, each named follower fetches every second, reporting the offset its function gives. */
async function fetchEverySecond(h: LeaderHarness, ms: number, followers: Record<string, () => number>): Promise<void> {
  for (let waited = 0; waited < ms; waited += 1000) {
    for (const [replica, offset] of Object.entries(followers)) h.fetch(replica, offset());
    await h.time.advance(1000);
  }
}

const requested = (h: LeaderHarness): [string, string, number][] => h.isrRequests.map((r) => [r.type, r.replica, r.atMs]);

describe('a partition leader shrinks the ISR', () => {
  it('proposes removing a follower that stopped fetching once it lagged past maxLagTime, and asks once while the request is open', async () => {
    const answers = heldAnswers();
    const h = await startLeader({ followers: ['b', 'c'], maxLagTimeMs: MAX_LAG_MS, isrChangeAnswer: answers.answer });
    await fetchEverySecond(h, 10_000, { c: () => h.log.newestOffset });
    expect(h.isrRequests).toEqual([]); // 10 s without b is not yet more than maxLagTime
    await fetchEverySecond(h, 10_000, { c: () => h.log.newestOffset });
    // The first health check after 10 s: at 12.5 s; not again while the controller has not answered.
    expect(requested(h)).toEqual([['ShrinkIsr', 'b', 5 * HEALTH_CHECK_MS]]);

    answers.settle(true);
    h.leader.updateIsr(['a', 'c']); // the metadata recorded it
    await fetchEverySecond(h, 20_000, { c: () => h.log.newestOffset });
    expect(requested(h)).toEqual([['ShrinkIsr', 'b', 5 * HEALTH_CHECK_MS]]); // b is out and not caught up: nothing more to ask
    await h.stop();
  });

  it('proposes removing a follower that keeps fetching without ever catching up (it fetches, but never reaches the newest offset)', async () => {
    const h = await startLeader({ followers: ['b', 'c'], maxLagTimeMs: MAX_LAG_MS, isrChangeAnswer: () => new Promise(() => undefined) });
    let published = 0;
    for (let second = 0; second < 20; second++) {
      h.publish(`m${published++}`);
      await h.settle();
      h.fetch('b', Math.max(-1, h.log.newestOffset - 2)); // always two records behind
      h.fetch('c', h.log.newestOffset);
      await h.time.advance(999);
    }
    // Caught up last at its first fetch (t = 1 ms): the first health check more than 10 s later.
    expect(requested(h)).toEqual([['ShrinkIsr', 'b', 5 * HEALTH_CHECK_MS]]);
    await h.stop();
  });

  it('commits the ALL publishes a lagging follower held only once the metadata recorded its removal', async () => {
    const answers = heldAnswers();
    const h = await startLeader({ followers: ['b', 'c'], maxLagTimeMs: MAX_LAG_MS, isrChangeAnswer: answers.answer });
    h.publish('x0', AckPolicy.ALL);
    await h.settle();
    await fetchEverySecond(h, 13_000, { b: () => h.log.newestOffset });
    expect(requested(h)).toEqual([['ShrinkIsr', 'c', 5 * HEALTH_CHECK_MS]]);
    // Requested is not recorded: c may still be in the ISR the controller elects from.
    expect([h.ackOf('x0'), h.log.highWatermark]).toEqual([undefined, -1]);

    answers.settle(true);
    await h.settle();
    expect(h.ackOf('x0')).toBeUndefined();
    h.leader.updateIsr(['a', 'b']);
    await h.settle();
    expect(h.ackSummary()).toEqual([['x0', 0, AckError.OK]]);
    expect(h.log.highWatermark).toBe(0);
    await h.stop();
  });

  it.each([
    ['refused', false],
    ['not known (the request failed)', new Error('controller unreachable')],
  ])('asks again at a later health check when the outcome was %s', async (_which, outcome) => {
    const answers = heldAnswers();
    const h = await startLeader({ followers: ['b', 'c'], maxLagTimeMs: MAX_LAG_MS, isrChangeAnswer: answers.answer });
    await fetchEverySecond(h, 13_000, { c: () => h.log.newestOffset });
    expect(requested(h)).toEqual([['ShrinkIsr', 'b', 12_500]]);
    answers.settle(outcome);
    await fetchEverySecond(h, 3_000, { c: () => h.log.newestOffset });
    expect(requested(h)).toEqual([
      ['ShrinkIsr', 'b', 12_500],
      ['ShrinkIsr', 'b', 15_000],
    ]);
    await h.stop();
  });

  it('asks nothing once stopped, however long its followers stay silent', async () => {
    const h = await startLeader({ followers: ['b', 'c'], maxLagTimeMs: MAX_LAG_MS });
    await h.stop();
    await h.time.advance(60_000);
    expect(h.isrRequests).toEqual([]);
  });
});

describe('a partition leader expands the ISR', () => {
  /** Leader "a" with b in the ISR and c out; x0 (ALL) committed through b. */
  async function withCOutside(answer?: (r: IsrRequest) => Promise<boolean>): Promise<LeaderHarness> {
    const h = await startLeader({ followers: ['b', 'c'], isr: ['a', 'b'], maxLagTimeMs: MAX_LAG_MS, ...(answer ? { isrChangeAnswer: answer } : {}) });
    h.publish('x0', AckPolicy.ALL);
    await h.settle();
    h.fetch('b', -1);
    await h.settle();
    h.fetch('b', 0);
    await h.settle();
    expect(h.ackSummary()).toEqual([['x0', 0, AckError.OK]]);
    return h;
  }

  it('proposes re-adding a follower that caught up, and counts it for commits while the request is open', async () => {
    const answers = heldAnswers();
    const h = await withCOutside(answers.answer);
    h.fetch('c', -1);
    await h.settle();
    h.fetch('c', 0); // c holds everything committed
    await h.time.advance(HEALTH_CHECK_MS);
    expect(requested(h)).toEqual([['ExpandIsr', 'c', HEALTH_CHECK_MS]]);

    // The controller may already have recorded c (and could elect it): x1 waits for c too.
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    h.fetch('b', 1);
    await h.settle();
    expect([h.ackOf('x1'), h.log.highWatermark]).toEqual([undefined, 0]);
    h.fetch('c', 1);
    await h.settle();
    expect(h.ackOf('x1')).toMatchObject({ offset: 1, ackError: AckError.OK });

    answers.settle(true);
    h.leader.updateIsr(['a', 'b', 'c']);
    await fetchEverySecond(h, 20_000, { b: () => h.log.newestOffset, c: () => h.log.newestOffset });
    expect(requested(h)).toEqual([['ExpandIsr', 'c', HEALTH_CHECK_MS]]);
    await h.stop();
  });

  it('stops counting a follower whose re-admission was refused', async () => {
    const answers = heldAnswers();
    const h = await withCOutside(answers.answer);
    h.fetch('c', -1);
    await h.settle();
    h.fetch('c', 0);
    await h.time.advance(HEALTH_CHECK_MS);
    expect(requested(h)).toEqual([['ExpandIsr', 'c', HEALTH_CHECK_MS]]);
    answers.settle(false);
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    h.fetch('b', 1);
    await h.settle();
    expect(h.ackOf('x1')).toMatchObject({ offset: 1, ackError: AckError.OK });
    await h.stop();
  });

  it('keeps counting a follower whose re-admission has an unknown outcome (it may be recorded), and asks again', async () => {
    const answers = heldAnswers();
    const h = await withCOutside(answers.answer);
    h.fetch('c', -1);
    await h.settle();
    h.fetch('c', 0);
    await h.time.advance(HEALTH_CHECK_MS);
    answers.settle(new Error('controller unreachable'));
    h.publish('x1', AckPolicy.ALL);
    await h.settle();
    h.fetch('b', 1);
    await h.settle();
    expect(h.ackOf('x1')).toBeUndefined();
    h.fetch('c', 1);
    await h.time.advance(HEALTH_CHECK_MS);
    expect(h.ackOf('x1')).toMatchObject({ offset: 1, ackError: AckError.OK });
    expect(requested(h)).toEqual([
      ['ExpandIsr', 'c', HEALTH_CHECK_MS],
      ['ExpandIsr', 'c', 2 * HEALTH_CHECK_MS],
    ]);
    await h.stop();
  });

  it('does not propose a follower that is behind the high watermark', async () => {
    const h = await withCOutside();
    await fetchEverySecond(h, 20_000, { b: () => h.log.newestOffset, c: () => -1 });
    expect(h.isrRequests).toEqual([]);
    await h.stop();
  });

  it('re-admits a follower only once it holds everything written before this leader epoch, even above the high watermark', async () => {
    // The previous leader (epoch 1) wrote 0-4; this leader's high watermark stayed at 1.
    const before = async (log: PartitionLog): Promise<void> => {
      log.beginLeaderEpoch(1);
      const records = Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`old${i}`), headers: null, subject: SUBJECT, reply: '' }));
      await log.append(records, 1n, 1).durable;
      log.setHighWatermark(1);
    };
    const h = await startLeader({ followers: ['b', 'c'], isr: ['a', 'b'], minIsr: 2, leaderEpoch: 2, maxLagTimeMs: MAX_LAG_MS, before });
    await fetchEverySecond(h, 5_000, { c: () => 2 });
    expect(h.log.highWatermark).toBe(1);
    expect(h.isrRequests.filter((r) => r.replica === 'c')).toEqual([]);
    await fetchEverySecond(h, 3_000, { c: () => 4 });
    expect(h.isrRequests.filter((r) => r.replica === 'c').map((r) => r.type)).toEqual(['ExpandIsr']);
    await h.stop();
  });
});
