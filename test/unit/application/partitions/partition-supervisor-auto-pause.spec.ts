import { AckError, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { createStream } from '../../../support/metadata-mothers';
import { waitForVirtual } from '../../../support/wait-for';
import { startWorld, World } from './partition-supervisor-fixture';

/**
 * Auto-pause through the real metadata (docs/consumers.md "Auto-pause"): servers a (leader) and b
 * (follower) of stream "s" with an idle time of 1 s, on virtual time. The leader's pause request is
 * recorded in the shared metadata log and every server's supervisor acts on it.
 */

const REF = { stream: 's', partition: 0 };
const SUBJECT = 's-subject';
const IDLE_MS = 1000;
/** A follower that asked before its leader listened tries again 50 ms later. */
const FOLLOWER_STARTS_MS = 100;
const resume: MetadataCommand = { type: 'ResumeStream', data: { name: 's', partitions: [0], atNs: '2' } };

const partitionOf = (w: World) => w.server('a').metadata.state.streams.get('s')!.partitions[0]!;
const pausesAskedBy = (w: World, server: string) => w.server(server).requests.filter((c) => c.type === 'PauseStream');
const elapsedAtNs = (w: World, ns: string): number => w.time.elapsedMs - Number((w.time.nowNs() - BigInt(ns)) / 1_000_000n);

describe('auto-pause through the metadata', () => {
  let w: World;
  afterEach(() => w.stop());

  it('the leader pauses its idle partition alone; every server closes it; a resume restarts the leader and its timer', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2, config: { autoPauseTimeMs: IDLE_MS } }));
    await w.time.advance(FOLLOWER_STARTS_MS);
    w.publish(SUBJECT, 'm0', AckPolicy.ALL);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    const publishedAtMs = FOLLOWER_STARTS_MS;

    await waitForVirtual(w.time, () => partitionOf(w).paused, 5 * IDLE_MS, 'the partition paused');
    await w.settled();
    expect(elapsedAtNs(w, partitionOf(w).pauseTimestamps.latestNs)).toBe(publishedAtMs + IDLE_MS);
    expect(pausesAskedBy(w, 'a')).toEqual([{ type: 'PauseStream', data: { name: 's', partitions: [0], resumeAll: false, atNs: expect.any(String) } }]);
    expect(pausesAskedBy(w, 'b')).toEqual([]);
    expect(w.server('a').metadata.state.streams.get('s')!.resumeAll).toBe(false);
    expect([w.server('a').supervisor.get(REF), w.server('b').supervisor.get(REF)]).toEqual([undefined, undefined]);

    await w.exec(resume);
    expect(partitionOf(w).paused).toBe(false);
    expect(w.server('a').supervisor.get(REF)?.isLeader).toBe(true);
    await w.time.advance(FOLLOWER_STARTS_MS);
    w.publish(SUBJECT, 'm1', AckPolicy.ALL);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK], ['m1', 1, AckError.OK]]);

    // The new leader's timer pauses it again once idle.
    await waitForVirtual(w.time, () => partitionOf(w).paused, 5 * IDLE_MS, 'the partition paused again');
    expect(pausesAskedBy(w, 'a')).toHaveLength(2);
  });

  it('with autoPauseDisableIfSubscribers, not while a subscription is served; at the next firing after it ends', async () => {
    w = await startWorld(['a']);
    await w.exec(createStream('s', { config: { autoPauseTimeMs: IDLE_MS, autoPauseDisableIfSubscribers: true } }));
    w.server('a').supervisor.subscriptions.opened(REF);
    await w.time.advance(10 * IDLE_MS);
    expect(partitionOf(w).paused).toBe(false);
    expect(pausesAskedBy(w, 'a')).toEqual([]);

    w.server('a').supervisor.subscriptions.closed(REF);
    await waitForVirtual(w.time, () => partitionOf(w).paused, 2 * IDLE_MS, 'the partition paused');
    expect(pausesAskedBy(w, 'a')).toHaveLength(1);
  });

  it('a stream without an idle time (and a server default of 0) is never paused', async () => {
    w = await startWorld(['a']);
    await w.exec(createStream('s'));
    await w.time.advance(100 * IDLE_MS);
    expect(partitionOf(w).paused).toBe(false);
    expect(pausesAskedBy(w, 'a')).toEqual([]);
  });
});
