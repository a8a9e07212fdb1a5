import { ConsumerGroupService } from '../../../../src/application/groups/consumer-groups';
import { GroupLivenessTimers } from '../../../../src/application/groups/group-liveness-timers';
import { createStream } from '../../../support/metadata-mothers';
import { settleVirtual } from '../../../support/wait-for';
import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { VirtualTime } from '../../../support/virtual-time';
import { FakeRaftGroup, startServer, TestServer, twoServers } from '../cluster/cluster-fixtures';

const CONSUMER_TIMEOUT_MS = 1000;
const COORDINATOR_TIMEOUT_MS = 2000;

/** Controller "a" and follower "b", streams foo and bar of two partitions each; the first group is coordinated by "a". */
async function cluster(options: { readonly autoDeliver?: boolean } = {}) {
  const c = await twoServers({ ...options, settings: { groups: { consumerTimeoutMs: CONSUMER_TIMEOUT_MS, coordinatorTimeoutMs: COORDINATOR_TIMEOUT_MS } } });
  c.a.role.start();
  await c.time.advance(0);
  for (const name of ['foo', 'bar']) {
    const created = await c.a.metadata.execute(createStream(name, { partitions: 2 }));
    if (!created.ok) throw new Error(JSON.stringify(created.error));
  }
  const groups = (s: TestServer) => s.container.get(ConsumerGroupService);
  const timers = (s: TestServer) => s.container.get(GroupLivenessTimers);
  const group = (id = 'g') => c.a.metadata.state.groups.get(id);
  const run = <T>(p: Promise<T>, what = 'group call'): Promise<T> => settleVirtual(c.time, p, 10_000, what);
  return { ...c, groups, timers, group, run };
}

const m = (consumer: string, group = 'g') => ({ group, consumer });

describe('consumer group calls (docs/consumers.md "Consumer groups")', () => {
  it('joins through any server and answers the coordinator, the epoch and both timeouts', async () => {
    const c = await cluster();
    const joined = await c.run(c.groups(c.b).join(m('c1'), ['foo', 'bar']));
    expect(joined).toEqual({ ok: true, value: { coordinator: 'a', epoch: c.group()!.epoch, consumerTimeoutMs: CONSUMER_TIMEOUT_MS, coordinatorTimeoutMs: COORDINATOR_TIMEOUT_MS } });
    expect(c.b.metadata.state.groups.get('g')?.members.map((x) => x.id)).toEqual(['c1']);
  });

  it('refuses empty fields before asking the controller, and what the group aggregate refuses', async () => {
    const c = await cluster();
    const before = c.a.metadata.state.lastAppliedIndex;
    expect(await c.groups(c.b).join(m('c1', ''), ['foo'])).toEqual({ ok: false, error: { kind: 'MissingGroupField', field: 'groupId' } });
    expect(await c.groups(c.b).join(m(''), ['foo'])).toEqual({ ok: false, error: { kind: 'MissingGroupField', field: 'consumerId' } });
    expect(await c.groups(c.b).join(m('c1'), [])).toEqual({ ok: false, error: { kind: 'MissingGroupField', field: 'streams' } });
    expect(await c.groups(c.b).reportCoordinator(m('c1'), '', 1)).toEqual({ ok: false, error: { kind: 'MissingGroupField', field: 'coordinator' } });
    expect(c.a.metadata.state.lastAppliedIndex).toBe(before);
    expect(await c.run(c.groups(c.b).join(m('c1'), ['nope']))).toEqual({ ok: false, error: { kind: 'StreamNotFound', stream: 'nope' } });
    await c.run(c.groups(c.b).join(m('c1'), ['foo']));
    expect(await c.run(c.groups(c.b).join(m('c1'), ['foo']))).toEqual({ ok: false, error: { kind: 'ConsumerAlreadyMember', group: 'g', consumer: 'c1' } });
    expect(await c.run(c.groups(c.b).leave(m('c2')))).toEqual({ ok: false, error: { kind: 'ConsumerNotMember', group: 'g', consumer: 'c2' } });
    expect(await c.run(c.groups(c.b).leave(m('c1', 'other')))).toEqual({ ok: false, error: { kind: 'ConsumerGroupNotFound', group: 'other' } });
  });

  it('answers assignments on the coordinator only, at the current epoch, one entry per stream the member consumes', async () => {
    const c = await cluster();
    await c.run(c.groups(c.b).join(m('c1'), ['foo', 'bar']));
    const first = c.group()!.epoch;
    expect(c.groups(c.a).fetchAssignments(m('c1'), first)).toEqual({
      ok: true,
      value: { epoch: first, assignments: [{ stream: 'bar', partitions: [0, 1] }, { stream: 'foo', partitions: [0, 1] }] },
    });
    expect(c.groups(c.b).fetchAssignments(m('c1'), first)).toEqual({ ok: false, error: { kind: 'NotGroupCoordinator', group: 'g' } });
    expect(c.groups(c.a).fetchAssignments(m('c1', 'other'), first)).toEqual({ ok: false, error: { kind: 'ConsumerGroupNotFound', group: 'other' } });
    expect(c.groups(c.a).fetchAssignments(m('c9'), first)).toEqual({ ok: false, error: { kind: 'ConsumerNotMember', group: 'g', consumer: 'c9' } });

    // The Go tests' example: a second member on foo alone takes both foo partitions.
    await c.run(c.groups(c.a).join(m('c2'), ['foo']));
    const second = c.group()!.epoch;
    expect(second).toBeGreaterThan(first);
    expect(c.groups(c.a).fetchAssignments(m('c1'), first)).toEqual({ ok: false, error: { kind: 'GroupEpochMismatch', group: 'g' } });
    expect(c.groups(c.a).fetchAssignments(m('c2'), second)).toEqual({ ok: true, value: { epoch: second, assignments: [{ stream: 'foo', partitions: [0, 1] }] } });
    expect(c.groups(c.a).fetchAssignments(m('c1'), second)).toEqual({
      ok: true,
      value: { epoch: second, assignments: [{ stream: 'bar', partitions: [0, 1] }, { stream: 'foo', partitions: [] }] },
    });

    await c.run(c.groups(c.b).leave(m('c2')));
    await c.run(c.groups(c.b).leave(m('c1')));
    expect(c.group()).toBeUndefined();
  });
});

describe('coordinator liveness timers (docs/consumers.md "Liveness")', () => {
  it('expires a member not heard for the consumer timeout, and each assignment fetch starts the timeout over', async () => {
    const c = await cluster();
    await c.run(c.groups(c.b).join(m('c1'), ['foo']));
    await c.run(c.groups(c.b).join(m('c2'), ['foo']));
    expect(c.timers(c.a).isActive('g', 'c1')).toBe(true);
    expect(c.timers(c.b).isActive('g', 'c1')).toBe(false);
    await c.time.advance(CONSUMER_TIMEOUT_MS - 100);
    expect(c.groups(c.a).fetchAssignments(m('c1'), c.group()!.epoch).ok).toBe(true);
    await c.time.advance(200);
    expect(c.group()!.members.map((x) => x.id)).toEqual(['c1']);
    expect(c.timers(c.a).isActive('g', 'c2')).toBe(false);
    const epoch = c.group()!.epoch;
    expect(c.groups(c.a).fetchAssignments(m('c2'), epoch)).toEqual({ ok: false, error: { kind: 'ConsumerNotMember', group: 'g', consumer: 'c2' } });
    await c.time.advance(CONSUMER_TIMEOUT_MS);
    expect(c.group()).toBeUndefined();
  });

  it('records the removal as expired, and a member that left and joined again gets a timer of its own', async () => {
    const c = await cluster();
    const left: boolean[] = [];
    c.a.metadata.applied$.subscribe((e) => {
      if (e.kind === 'proposal' && e.outcome.kind === 'applied') for (const ev of e.outcome.events) if (ev.type === 'ConsumerGroupLeft') left.push(ev.data.expired);
    });
    await c.run(c.groups(c.a).join(m('keep'), ['foo']));
    await c.run(c.groups(c.a).join(m('c1'), ['foo']));
    await c.time.advance(CONSUMER_TIMEOUT_MS / 2);
    await c.run(c.groups(c.a).leave(m('c1')));
    await c.run(c.groups(c.a).join(m('c1'), ['foo']));
    // The first membership's timer would have fired here.
    await c.time.advance(CONSUMER_TIMEOUT_MS / 2 + 100);
    expect(c.group()!.members.map((x) => x.id)).toContain('c1');
    expect(left).toEqual([false, true]); // c1's own leave, then "keep" expired
    await c.time.advance(CONSUMER_TIMEOUT_MS / 2);
    expect(c.group()).toBeUndefined();
    expect(left).toEqual([false, true, true]);
  });

  it('does not remove a member that left and joined again while its old expiry was on its way (the expiry carries the epoch it saw)', async () => {
    const c = await cluster({ autoDeliver: false });
    await c.run(c.groups(c.a).join(m('x'), ['foo'])); // group "h" is then coordinated by "b"
    await c.run(c.groups(c.a).join(m('c1', 'h'), ['foo']));
    c.followerLog.deliver();
    expect(c.timers(c.b).isActive('h', 'c1')).toBe(true);
    // "b" has not applied these yet: its timer fires with the epoch of the first membership.
    await c.run(c.groups(c.a).leave(m('c1', 'h')));
    await c.run(c.groups(c.a).join(m('c1', 'h'), ['foo']));
    await c.time.advance(CONSUMER_TIMEOUT_MS + 300);
    expect(c.a.metadata.state.groups.get('h')?.members.map((x) => x.id)).toEqual(['c1']);
    c.followerLog.deliver();
    expect(c.timers(c.b).isActive('h', 'c1')).toBe(true);
    // The new membership has its own timer, which does expire it.
    await c.time.advance(CONSUMER_TIMEOUT_MS);
    c.followerLog.deliver();
    expect(c.a.metadata.state.groups.get('h')).toBeUndefined();
  });

  it('arms the timer again when the removal fails (no controller), and removes the member once one answers', async () => {
    const c = await cluster();
    await c.run(c.groups(c.a).join(m('x'), ['foo'])); // group "h" is then coordinated by "b", which has fewer
    await c.run(c.groups(c.a).join(m('c1', 'h'), ['foo']));
    expect(c.a.metadata.state.groups.get('h')?.coordinator).toBe('b');
    expect(c.timers(c.b).isActive('h', 'c1')).toBe(true);
    await c.a.role.stop();
    await c.time.advance(CONSUMER_TIMEOUT_MS + 5000 + 100); // expiry, then the metadata timeout of the removal
    expect(c.a.metadata.state.groups.get('h')?.members.map((x) => x.id)).toEqual(['c1']);
    expect(c.timers(c.b).isActive('h', 'c1')).toBe(true);
    c.a.role.start();
    await c.time.advance(CONSUMER_TIMEOUT_MS);
    expect(c.a.metadata.state.groups.get('h')).toBeUndefined();
  });
});

describe('liveness timers after a restart', () => {
  it('gives every member of the groups this server coordinates a full timeout from the restart', async () => {
    const settings = { serverId: 'a', groups: { consumerTimeoutMs: CONSUMER_TIMEOUT_MS, coordinatorTimeoutMs: COORDINATOR_TIMEOUT_MS } };
    const start = (log: InMemoryMetadataLog, time: VirtualTime) =>
      startServer({ hub: new InMemoryClusterHub(), time, log, group: new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] }), settings });
    const firstLog = new InMemoryMetadataLog();
    const first = await start(firstLog, new VirtualTime());
    await first.metadata.execute({ type: 'RegisterBroker', data: { id: 'a', host: 'a.local', port: 9292 } });
    await first.metadata.execute(createStream('foo'));
    await first.metadata.execute({ type: 'JoinConsumerGroup', data: { group: 'g', consumer: 'c1', streams: ['foo'] } });

    const time = new VirtualTime();
    const restarted = await start(new InMemoryMetadataLog([...firstLog.stored]), time);
    restarted.role.start();
    await time.advance(0);
    expect(restarted.container.get(GroupLivenessTimers).isActive('g', 'c1')).toBe(true);
    await time.advance(CONSUMER_TIMEOUT_MS - 1);
    expect(restarted.metadata.state.groups.get('g')?.members).toHaveLength(1);
    await time.advance(2);
    expect(restarted.metadata.state.groups.get('g')).toBeUndefined();
  });
});

describe('coordinator reports, counted by the controller (docs/consumers.md "Coordinator failover")', () => {
  it('moves the group to another broker once more than half of the members reported, and the timers with it', async () => {
    const c = await cluster();
    await c.run(c.groups(c.b).join(m('c1'), ['foo']));
    await c.run(c.groups(c.b).join(m('c2'), ['foo']));
    const before = c.group()!;
    expect(await c.run(c.groups(c.b).reportCoordinator(m('c1'), 'a', before.epoch))).toEqual({ ok: true, value: undefined });
    expect(c.group()!.coordinator).toBe('a');
    expect(await c.run(c.groups(c.b).reportCoordinator(m('c2'), 'a', before.epoch))).toEqual({ ok: true, value: undefined });
    const after = c.group()!;
    expect(after.coordinator).toBe('b');
    expect(after.epoch).toBeGreaterThan(before.epoch);
    expect(c.timers(c.a).isActive('g', 'c1')).toBe(false);
    expect(c.timers(c.b).isActive('g', 'c1')).toBe(true);
    expect(c.groups(c.b).fetchAssignments(m('c1'), after.epoch).ok).toBe(true);
    expect(c.groups(c.a).fetchAssignments(m('c1'), after.epoch)).toEqual({ ok: false, error: { kind: 'NotGroupCoordinator', group: 'g' } });
  });

  it('lets reports expire after the coordinator timeout, and refuses reports of another generation or from outside the group', async () => {
    const c = await cluster();
    await c.run(c.groups(c.b).join(m('c1'), ['foo']));
    await c.run(c.groups(c.b).join(m('c2'), ['foo']));
    const epoch = c.group()!.epoch;
    await c.run(c.groups(c.b).reportCoordinator(m('c1'), 'a', epoch));
    // Both members keep fetching (the consumer timeout is shorter) while c1's report grows stale.
    for (let waited = 0; waited <= COORDINATOR_TIMEOUT_MS; waited += CONSUMER_TIMEOUT_MS / 2) {
      await c.time.advance(CONSUMER_TIMEOUT_MS / 2);
      for (const consumer of ['c1', 'c2']) expect(c.groups(c.a).fetchAssignments(m(consumer), epoch).ok).toBe(true);
    }
    await c.run(c.groups(c.b).reportCoordinator(m('c2'), 'a', epoch));
    expect(c.group()!.coordinator).toBe('a');
    expect(await c.run(c.groups(c.b).reportCoordinator(m('c1'), 'b', epoch))).toEqual({
      ok: false,
      error: { kind: 'GroupCoordinatorMismatch', group: 'g', coordinator: 'a', epoch, reportedCoordinator: 'b', reportedEpoch: epoch },
    });
    expect(await c.run(c.groups(c.b).reportCoordinator(m('c9'), 'a', epoch))).toEqual({ ok: false, error: { kind: 'ConsumerNotMember', group: 'g', consumer: 'c9' } });
    expect(await c.run(c.groups(c.b).reportCoordinator(m('c1', 'other'), 'a', epoch))).toEqual({ ok: false, error: { kind: 'ConsumerGroupNotFound', group: 'other' } });
  });
});
