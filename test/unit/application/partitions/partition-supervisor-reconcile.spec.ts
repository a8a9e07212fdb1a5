import { AckError, AckPolicy } from '../../../../src/application/ports/message-transport.port';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { createStream } from '../../../support/metadata-mothers';
import { startWorld, World } from './partition-supervisor-fixture';

/**
 * `PartitionSupervisor` reconciling what runs on a server with the applied metadata
 * (docs/replication.md; docs/operability.md "Partitions that cannot start"), with servers a and b
 * on one metadata log, in-memory NATS and replication, on virtual time.
 */

const REF = { stream: 's', partition: 0 };
const SUBJECT = 's-subject';
const leaderFailed = (failedLeader: string): MetadataCommand => ({ type: 'ChangePartitionLeader', data: { stream: 's', partition: 0, failedLeader } });
const pause = (name: string): MetadataCommand => ({ type: 'PauseStream', data: { name, partitions: [], resumeAll: false, atNs: '1' } });
const resume = (name: string): MetadataCommand => ({ type: 'ResumeStream', data: { name, partitions: [], atNs: '2' } });
const deleteStream = (name: string): MetadataCommand => ({ type: 'DeleteStream', data: { name } });
const readonly = (value: boolean): MetadataCommand => ({ type: 'SetStreamReadonly', data: { name: 's', partitions: [], readonly: value, atNs: '3' } });

/** A follower that asked before its leader listened tries again 50 ms later. */
const FOLLOWER_STARTS_MS = 100;

const runtime = (w: World, server: string) => w.server(server).supervisor.get(REF);
const newest = (w: World, server: string): number | undefined => runtime(w, server)?.log.newestOffset;

describe('PartitionSupervisor starts what the metadata gives this server', () => {
  let w: World;
  afterEach(() => w.stop());

  it('the leader role where it leads, the follower role where it follows, nothing where it is not a replica', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    await w.exec(createStream('one', { replicationFactor: 1 })); // placed on a, the first of the least loaded
    expect([runtime(w, 'a')?.isLeader, runtime(w, 'b')?.isLeader]).toEqual([true, false]);
    expect(w.server('b').supervisor.get({ stream: 'one', partition: 0 })).toBeUndefined();
    expect((await w.server('b').store.list()).map((r) => r.stream)).toEqual(['s']);

    // The roles work together: a takes the publish, b copies it, both learn it is committed.
    await w.time.advance(FOLLOWER_STARTS_MS);
    w.publish(SUBJECT, 'm0', AckPolicy.ALL);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    expect([newest(w, 'b'), runtime(w, 'a')?.log.highWatermark]).toEqual([0, 0]);
    await w.time.advance(1000);
    expect(runtime(w, 'b')?.log.highWatermark).toBe(0);
  });

  it('consumer-group changes leave the partitions as they run', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    await w.time.advance(FOLLOWER_STARTS_MS);
    const [logOfA, logOfB] = [runtime(w, 'a')!.log, runtime(w, 'b')!.log];
    await w.exec({ type: 'JoinConsumerGroup', data: { group: 's', consumer: 'c1', streams: ['s'] } });
    await w.exec({ type: 'LeaveConsumerGroup', data: { group: 's', consumer: 'c1', expired: true } });
    await w.settled();
    // The same open logs: no role was stopped or restarted.
    expect(runtime(w, 'a')!.log).toBe(logOfA);
    expect(runtime(w, 'b')!.log).toBe(logOfB);
    expect([logOfA.closedReason, logOfB.closedReason]).toEqual([null, null]);
    expect([runtime(w, 'a')!.isLeader, runtime(w, 'b')!.isLeader]).toEqual([true, false]);
  });

  it('restarts both roles when the leader changes: the new leader takes publishes in its epoch, the old one follows it', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    await w.time.advance(FOLLOWER_STARTS_MS);
    w.publish(SUBJECT, 'm0', AckPolicy.ALL);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    const [logOfA, logOfB] = [runtime(w, 'a')!.log, runtime(w, 'b')!.log];

    await w.exec(leaderFailed('a'));
    const state = w.server('a').metadata.state.streams.get('s')!.partitions[0]!;
    expect([state.leader, state.isr]).toEqual(['b', ['b']]);
    expect([runtime(w, 'a')?.isLeader, runtime(w, 'b')?.isLeader]).toEqual([false, true]);
    // Restarted: the logs were closed and opened again, with their records.
    expect([logOfA.closedReason, logOfB.closedReason]).toEqual(['closed', 'closed']);
    expect([newest(w, 'a'), newest(w, 'b')]).toEqual([0, 0]);
    expect(runtime(w, 'b')!.log.lastLeaderEpoch).toBe(state.leaderEpoch);

    await w.time.advance(FOLLOWER_STARTS_MS);
    w.publish(SUBJECT, 'm1', AckPolicy.LEADER);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([
      ['m0', 0, AckError.OK],
      ['m1', 1, AckError.OK],
    ]);
    expect(newest(w, 'a')).toBe(1); // a copies from b now
    // Caught up, a is proposed back into the ISR by b's leader role, through the metadata.
    await w.time.advance(3000);
    expect(w.server('b').requests).toContainEqual({
      type: 'ExpandIsr',
      data: { stream: 's', partition: 0, replica: 'a', leader: 'b', leaderEpoch: state.leaderEpoch },
    });
    expect(w.server('a').metadata.state.streams.get('s')!.partitions[0]!.isr).toEqual(['a', 'b']);
  });

  it('restarts the leader role in the newer epoch when the leadership comes back', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    await w.exec(leaderFailed('a'));
    await w.time.advance(3000); // a catches up and is back in the ISR
    await w.exec(leaderFailed('b'));
    const state = w.server('a').metadata.state.streams.get('s')!.partitions[0]!;
    expect(state.leader).toBe('a');
    expect([runtime(w, 'a')?.isLeader, runtime(w, 'b')?.isLeader]).toEqual([true, false]);
    expect(runtime(w, 'a')!.log.lastLeaderEpoch).toBe(state.leaderEpoch);
    expect(state.isr).toEqual(['a']);
    // The ISR is a alone now: an ALL publish commits at once; b follows a again and copies it.
    w.publish(SUBJECT, 'm0', AckPolicy.ALL);
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    await w.time.advance(FOLLOWER_STARTS_MS);
    expect(newest(w, 'b')).toBe(0);
  });

  it('applies ISR and read-only changes in place: the roles keep running on the same log', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    const logOfA = runtime(w, 'a')!.log;
    // b's server goes away: a's leader has b dropped from the ISR after maxLagTime, and ALL acks resume.
    await w.stopServer('b');
    w.publish(SUBJECT, 'm0', AckPolicy.ALL);
    await w.time.advance(5000);
    expect(w.acks).toEqual([]);
    await w.time.advance(10_000);
    expect(w.server('a').requests.map((c) => c.type)).toEqual(['ShrinkIsr']);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
    expect(runtime(w, 'a')?.log).toBe(logOfA);

    await w.exec(readonly(true));
    expect([runtime(w, 'a')?.log, logOfA.isReadonly, runtime(w, 'a')?.isLeader]).toEqual([logOfA, true, true]);
    w.publish(SUBJECT, 'refused');
    await w.time.advance(10);
    expect(newest(w, 'a')).toBe(0);
    await w.exec(readonly(false));
    w.publish(SUBJECT, 'm1');
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([
      ['m0', 0, AckError.OK],
      ['m1', 1, AckError.OK],
    ]);
  });
});

describe('PartitionSupervisor stops what the metadata takes away', () => {
  let w: World;
  afterEach(() => w.stop());

  it('closes a paused partition and keeps its records; resumed, it runs again from them', async () => {
    w = await startWorld(['a']);
    await w.exec(createStream('s'));
    w.publish(SUBJECT, 'm0');
    await w.time.advance(10);
    const before = runtime(w, 'a')!.log;

    await w.exec(pause('s'));
    expect([runtime(w, 'a'), before.closedReason]).toEqual([undefined, 'closed']);
    w.publish(SUBJECT, 'while paused');
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]); // nobody listens on the subject

    await w.exec(resume('s'));
    expect([runtime(w, 'a')?.isLeader, newest(w, 'a')]).toEqual([true, 0]);
    w.publish(SUBJECT, 'm1');
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([
      ['m0', 0, AckError.OK],
      ['m1', 1, AckError.OK],
    ]);
  });

  it('deletes a deleted stream\'s data on every replica; a stream created again under its name starts empty', async () => {
    w = await startWorld(['a', 'b']);
    await w.exec(createStream('s', { replicationFactor: 2 }));
    w.publish(SUBJECT, 'm0');
    await w.time.advance(10);
    const logs = [runtime(w, 'a')!.log, runtime(w, 'b')!.log];

    await w.exec(deleteStream('s'));
    expect(logs.map((l) => l.closedReason)).toEqual(['deleted', 'deleted']);
    expect([runtime(w, 'a'), runtime(w, 'b')]).toEqual([undefined, undefined]);
    expect([await w.server('a').store.list(), await w.server('b').store.list()]).toEqual([[], []]);

    await w.exec(createStream('s', { replicationFactor: 2 }));
    expect([newest(w, 'a'), newest(w, 'b')]).toEqual([-1, -1]);
  });
});

describe('PartitionSupervisor retries partitions that cannot start', () => {
  let w: World;
  afterEach(() => w.stop());

  const emfile = (): Error => Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });

  it('retries a partition whose log cannot open after 1 s, then 2 s, until it starts', async () => {
    w = await startWorld(['a']);
    const { store, supervisor } = w.server('a');
    let failing = true;
    store.refuse = () => (failing ? emfile() : null);
    await w.exec(createStream('s'));
    expect(supervisor.partitionsNotStarted()).toEqual([{ ref: REF, code: 'EMFILE', message: 'EMFILE: too many open files', attempts: 1 }]);
    expect(store.opens).toBe(1);
    await w.time.advance(999);
    expect(store.opens).toBe(1);
    await w.time.advance(1);
    expect([store.opens, supervisor.notStarted(REF)?.attempts]).toEqual([2, 2]);

    failing = false;
    await w.time.advance(1999);
    expect(runtime(w, 'a')).toBeUndefined();
    await w.time.advance(1);
    expect([store.opens, runtime(w, 'a')?.isLeader, supervisor.partitionsNotStarted()]).toEqual([3, true, []]);
    await w.time.advance(60_000);
    expect(store.opens).toBe(3); // no retry once started
  });

  it('undoes a partition whose role could not start (its log is closed) and starts it afresh on the retry', async () => {
    w = await startWorld(['a']);
    const { store, supervisor } = w.server('a');
    w.transport.refuseListen = true;
    await w.exec(createStream('s'));
    expect(supervisor.notStarted(REF)?.message).toMatch(/permissions violation/);
    expect(store.opened.map((l) => l.closedReason)).toEqual(['closed']);
    w.transport.refuseListen = false;
    await w.time.advance(1000);
    expect([runtime(w, 'a')?.isLeader, store.opened.length]).toEqual([true, 2]);
    w.publish(SUBJECT, 'm0');
    await w.time.advance(10);
    expect(w.ackSummary()).toEqual([['m0', 0, AckError.OK]]);
  });

  it('forgets the failure of a partition paused meanwhile, and retries nothing', async () => {
    w = await startWorld(['a']);
    const { store, supervisor } = w.server('a');
    store.refuse = () => emfile();
    await w.exec(createStream('s'));
    await w.exec(pause('s'));
    expect(supervisor.partitionsNotStarted()).toEqual([]);
    await w.time.advance(60_000);
    expect(store.opens).toBe(1);
  });
});

describe('PartitionSupervisor reconciles one change at a time', () => {
  let w: World;
  afterEach(() => w.stop());

  it('a pause applied while the partition is still opening leaves it closed', async () => {
    w = await startWorld(['a']);
    const { store, metadata, supervisor } = w.server('a');
    store.hold();
    expect((await metadata.execute(createStream('s'))).ok).toBe(true);
    expect((await metadata.execute(pause('s'))).ok).toBe(true);
    await w.time.advance(100);
    expect(store.opened).toEqual([]); // still opening
    store.release();
    await supervisor.settled();
    expect(runtime(w, 'a')).toBeUndefined();
    expect(store.opened.map((l) => l.closedReason)).toEqual(['closed']);
  });

  it('stop waits for the reconciliation under way, then stops everything; later changes start nothing', async () => {
    w = await startWorld(['a']);
    const { store, metadata, supervisor } = w.server('a');
    await w.exec(createStream('one'));
    store.hold();
    expect((await metadata.execute(createStream('s'))).ok).toBe(true);
    let stopped = false;
    const stopping = supervisor.stop().then(() => (stopped = true));
    await w.time.advance(100);
    expect(stopped).toBe(false);
    store.release();
    await stopping;
    expect(store.opened.map((l) => [l.ref.stream, l.closedReason])).toEqual([
      ['one', 'closed'],
      ['s', 'closed'],
    ]);
    expect([runtime(w, 'a'), supervisor.get({ stream: 'one', partition: 0 })]).toEqual([undefined, undefined]);

    const opens = store.opens;
    expect((await metadata.execute(createStream('later'))).ok).toBe(true);
    await supervisor.settled();
    expect(store.opens).toBe(opens);
  });

  it('stop cancels the retries of partitions that could not start, and leaves no timer behind', async () => {
    w = await startWorld(['a']);
    const { store, supervisor } = w.server('a');
    store.refuse = () => new Error('EMFILE');
    await w.exec(createStream('s'));
    await supervisor.stop();
    expect(w.time.pendingTimers).toBe(0);
    await w.time.advance(60_000);
    expect(store.opens).toBe(1);
  });

  it('stopped while a partition is failing to start, it schedules no retry (a live timer would keep the process up)', async () => {
    w = await startWorld(['a']);
    const { store, metadata, supervisor } = w.server('a');
    store.refuse = () => new Error('EMFILE');
    store.hold();
    expect((await metadata.execute(createStream('s'))).ok).toBe(true);
    const stopping = supervisor.stop();
    store.release();
    await stopping;
    expect(supervisor.notStarted(REF)?.attempts).toBe(1);
    expect(w.time.pendingTimers).toBe(0);
  });
});
