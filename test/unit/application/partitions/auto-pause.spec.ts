import { AutoPauseCheck, decideAutoPause } from '../../../../src/application/partitions/auto-pause';
import { autoPauseFor } from '../../../../src/application/partitions/log-options';
import type { StreamState } from '../../../../src/domain/stream/stream-state';
import { memorySettings } from '../../../support/memory-broker';
import { AckPolicy } from '../../../../src/application/ports/message-transport.port';
import { waitForVirtual } from '../../../support/wait-for';
import { LeaderHarness, startLeader } from './partition-leader-fixture';

/**
 * Auto-pause (docs/consumers.md "Auto-pause"): the rule alone, then a `PartitionLeader` with an
 * idle time of 1 s on virtual time, whose pause requests the test answers.
 */

const IDLE_MS = 1000;
const NOW = 50_000;
const check = (overrides: Partial<AutoPauseCheck>): AutoPauseCheck => ({ nowMs: NOW, lastReceivedMs: null, activeSubscriptions: 0, ...overrides });

describe('decideAutoPause', () => {
  const spareSubscribed = { idleMs: IDLE_MS, disableIfSubscribers: true };
  const pauseAnyway = { idleMs: IDLE_MS, disableIfSubscribers: false };

  it.each<[string, { idleMs: number; disableIfSubscribers: boolean }, Partial<AutoPauseCheck>, ReturnType<typeof decideAutoPause>]>([
    ['never received: idle', pauseAnyway, {}, { kind: 'pause' }],
    ['idle exactly the idle time', pauseAnyway, { lastReceivedMs: NOW - IDLE_MS }, { kind: 'pause' }],
    ['idle longer', pauseAnyway, { lastReceivedMs: NOW - 5 * IDLE_MS }, { kind: 'pause' }],
    ['received 300 ms ago: looks again when idle for the full time', pauseAnyway, { lastReceivedMs: NOW - 300 }, { kind: 'checkAgain', inMs: 700 }],
    ['received just now: a full period', pauseAnyway, { lastReceivedMs: NOW }, { kind: 'checkAgain', inMs: IDLE_MS }],
    ['idle with a subscriber, pausing with subscribers allowed', pauseAnyway, { activeSubscriptions: 1 }, { kind: 'pause' }],
    ['idle with a subscriber that holds it open: a full period', spareSubscribed, { activeSubscriptions: 1 }, { kind: 'checkAgain', inMs: IDLE_MS }],
    ['idle, spared only while subscribed: none left', spareSubscribed, { lastReceivedMs: NOW - 2 * IDLE_MS }, { kind: 'pause' }],
    ['not idle, with a subscriber: the time left', spareSubscribed, { lastReceivedMs: NOW - 400, activeSubscriptions: 2 }, { kind: 'checkAgain', inMs: 600 }],
  ])('%s', (_name, settings, at, expected) => {
    expect(decideAutoPause(settings, check(at))).toEqual(expected);
  });
});

describe('autoPauseFor: the stream\'s options over the server defaults', () => {
  const defaults = { ...memorySettings().streamDefaults, autoPauseTimeMs: 60_000, autoPauseDisableIfSubscribers: true };
  const stream = (config: StreamState['config']) => ({ config }) as StreamState;

  it('takes the server defaults when the stream did not say', () => {
    expect(autoPauseFor(stream({}), defaults)).toEqual({ idleMs: 60_000, disableIfSubscribers: true });
  });

  it('takes the stream\'s own values, 0 and false included (a stream can opt out of a server default)', () => {
    expect(autoPauseFor(stream({ autoPauseTimeMs: 0, autoPauseDisableIfSubscribers: false }), defaults)).toEqual({ idleMs: 0, disableIfSubscribers: false });
    expect(autoPauseFor(stream({ autoPauseTimeMs: 500 }), defaults)).toEqual({ idleMs: 500, disableIfSubscribers: true });
  });
});

describe('an auto-pausing partition leader', () => {
  let h: LeaderHarness;
  afterEach(() => h.stop());

  it('asks once the partition received nothing for the idle time, re-arming to the time left after each message', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    await h.time.advance(400);
    h.publish('m0');
    await h.settle(); // received at 400 ms (the batch is appended within the same virtual ms)
    await h.time.advance(IDLE_MS - 401); // first firing, 1000 ms after start: idle 600 ms, due again 400 ms later
    expect(h.pauseRequests).toEqual([]);
    expect(h.time.nextTimerInMs).toBe(400);
    await waitForVirtual(h.time, () => h.pauseRequests.length > 0, 5 * IDLE_MS, 'the pause request');
    expect(h.pauseRequests).toEqual([400 + IDLE_MS]);
    expect(h.ackOf('m0')?.offset).toBe(0);
  });

  it('a partition that never received a message is idle from the start', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    await waitForVirtual(h.time, () => h.pauseRequests.length > 0, 5 * IDLE_MS, 'the pause request');
    expect(h.pauseRequests).toEqual([IDLE_MS]);
  });

  it('never asks while messages keep arriving, and asks the idle time after the last one', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    for (let i = 0; i < 40; i++) {
      h.publish(`m${i}`, AckPolicy.LEADER);
      await h.time.advance(IDLE_MS / 2);
    }
    expect(h.pauseRequests).toEqual([]);
    const lastAtMs = 39 * (IDLE_MS / 2);
    await waitForVirtual(h.time, () => h.pauseRequests.length > 0, 5 * IDLE_MS, 'the pause request');
    expect(h.pauseRequests).toEqual([lastAtMs + IDLE_MS]);
    expect(h.acks).toHaveLength(40);
  });

  it('spares a partition with subscribers when told to, and asks at the first firing after the last one left', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: true } });
    h.subscriptions.count = 1;
    await h.time.advance(10 * IDLE_MS);
    expect(h.pauseRequests).toEqual([]);
    expect(h.time.nextTimerInMs).toBe(IDLE_MS); // the timer fired at 10 s and looks again a full period later
    await h.time.advance(IDLE_MS / 2);
    h.subscriptions.count = 0;
    await waitForVirtual(h.time, () => h.pauseRequests.length > 0, 5 * IDLE_MS, 'the pause request');
    expect(h.pauseRequests).toEqual([11 * IDLE_MS]);
  });

  it('pauses a partition with subscribers when pausing with subscribers is allowed', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    h.subscriptions.count = 3;
    await waitForVirtual(h.time, () => h.pauseRequests.length > 0, 5 * IDLE_MS, 'the pause request');
    expect(h.pauseRequests).toEqual([IDLE_MS]);
  });

  it('asks exactly once when the pause is recorded: nothing is armed after it', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    await h.time.advance(IDLE_MS);
    expect(h.pauseRequests).toEqual([IDLE_MS]);
    expect(h.time.pendingTimers).toBe(0);
    await h.time.advance(20 * IDLE_MS);
    expect(h.pauseRequests).toEqual([IDLE_MS]);
  });

  it('asks again at the next firing when a request was refused or failed', async () => {
    const answers = [async () => false, () => Promise.reject(new Error('metadata command timed out')), async () => true];
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false }, pauseAnswer: () => answers.shift()!() });
    await h.time.advance(10 * IDLE_MS);
    expect(h.pauseRequests).toEqual([IDLE_MS, 2 * IDLE_MS, 3 * IDLE_MS]);
    expect(h.lines.filter((l) => l.msg.startsWith('auto-pause request failed'))).toHaveLength(1);
  });

  it('leaves no timer behind when stopped, not even when a request in flight is refused afterwards', async () => {
    let refuse: (recorded: boolean) => void = () => undefined;
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false }, pauseAnswer: () => new Promise((resolve) => (refuse = resolve)) });
    await h.time.advance(IDLE_MS);
    expect(h.pauseRequests).toEqual([IDLE_MS]);
    await h.stop();
    refuse(false);
    await h.time.advance(1);
    expect(h.time.pendingTimers).toBe(0);
    await h.time.advance(10 * IDLE_MS);
    expect(h.pauseRequests).toEqual([IDLE_MS]);
  });

  it('a stopped leader arms nothing; a leader without an idle time never asks', async () => {
    h = await startLeader({ autoPause: { idleMs: IDLE_MS, disableIfSubscribers: false } });
    await h.stop();
    expect(h.time.pendingTimers).toBe(0);
    h = await startLeader({ autoPause: { idleMs: 0, disableIfSubscribers: false } });
    expect(h.time.pendingTimers).toBe(0);
    await h.time.advance(100 * IDLE_MS);
    expect(h.pauseRequests).toEqual([]);
  });
});
