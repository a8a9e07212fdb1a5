import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { PartitionFailover } from '../../../../src/application/cluster/partition-failover';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import type { PartitionLeaderChanged } from '../../../../src/domain/metadata/metadata-events';
import { silentLogger } from '../../../support/memory-broker';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, startServer } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** Long enough for anything the failover would do by itself (it never polls) to have happened. */
const A_WHILE_MS = 5000;
/** The pause before another attempt after one that failed without an answer (RETRY_DELAY_MS in partition-failover.ts). */
const RETRY_MS = 250;

interface LeaderChange {
  readonly atMs: number;
  readonly index: number;
  readonly data: PartitionLeaderChanged['data'];
}

/**
 * Controller "a" (leader of the metadata group) with brokers b, c, d and a registered, in that
 * order: placement breaks ties by registration order, so streams land on b, c, d first, led by b.
 * The PartitionFailover is driven directly (ControllerRole calls the same two methods); broker
 * reachability is set by command, as BrokerLiveness does on the controller.
 */
async function controller() {
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] });
  const server = await startServer({ hub: new InMemoryClusterHub(), time, log: new InMemoryMetadataLog(), group, settings: { serverId: 'a' } });
  const run = async (command: MetadataCommand): Promise<void> => {
    const result = await server.metadata.execute(command);
    if (!result.ok) throw new Error(`${command.type} refused: ${JSON.stringify(result.error)}`);
  };
  for (const id of ['b', 'c', 'd', 'a']) await run({ type: 'RegisterBroker', data: { id, host: `${id}.local`, port: 9292 } });
  // Every ChangePartitionLeader the failover asks for, recorded or refused.
  const attempts: string[] = [];
  const execute = server.metadata.execute.bind(server.metadata);
  jest.spyOn(server.metadata, 'execute').mockImplementation((command) => {
    if (command.type === 'ChangePartitionLeader') attempts.push(`${command.data.stream}/${command.data.partition}`);
    return execute(command);
  });
  const changes: LeaderChange[] = [];
  server.metadata.applied$.subscribe((entry) => {
    if (entry.kind !== 'proposal' || entry.outcome.kind !== 'applied') return;
    for (const e of entry.outcome.events) if (e.type === 'PartitionLeaderChanged') changes.push({ atMs: time.elapsedMs, index: entry.index, data: e.data });
  });
  return {
    time,
    server,
    run,
    attempts,
    changes,
    failover: server.container.get(PartitionFailover),
    partition: (stream: string, id = 0) => server.metadata.state.streams.get(stream)!.partitions[id]!,
    setReachable: (id: string, reachable: boolean) => run({ type: 'SetBrokerReachable', data: { id, reachable, atNs: time.nowNs().toString() } }),
    /** The partition's leader drops `replica` from its ISR, as a lagging follower would be. */
    shrinkIsr: async (stream: string, id: number, replica: string) => {
      const p = server.metadata.state.streams.get(stream)!.partitions[id]!;
      await run({ type: 'ShrinkIsr', data: { stream, partition: id, replica, leader: p.leader, leaderEpoch: p.leaderEpoch } });
    },
  };
}

describe('PartitionFailover: the controller moves the leadership of partitions led by unreachable brokers', () => {
  it('gives a partition a leader from its ISR as soon as its leader broker is recorded unreachable, and not before', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    expect(c.partition('orders')).toMatchObject({ leader: 'b', isr: ['b', 'c', 'd'] });
    c.failover.becomeController();

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toEqual([]);

    const markedAtMs = c.time.elapsedMs;
    await c.setReachable('b', false);
    await c.time.advance(0);

    // c and d lead nothing: the first in ISR order wins; b leaves the ISR. No rescan to wait for.
    expect(c.changes).toEqual([{ atMs: markedAtMs, index: expect.any(Number), data: { stream: 'orders', partition: 0, leader: 'c', isr: ['c', 'd'] } }]);
    expect(c.partition('orders')).toMatchObject({ leader: 'c', isr: ['c', 'd'], leaderEpoch: c.changes[0]!.index });

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toHaveLength(1);
    expect(c.attempts).toEqual(['orders/0']);
  });

  it('records no change while no in-sync replica is reachable, asks nothing more until the metadata changes, and moves the leadership once one is reachable again', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.shrinkIsr('orders', 0, 'd');
    expect(c.partition('orders')).toMatchObject({ leader: 'b', replicas: ['b', 'c', 'd'], isr: ['b', 'c'] });
    c.failover.becomeController();
    await c.setReachable('c', false);
    await c.setReachable('b', false);

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toEqual([]);
    expect(c.partition('orders')).toMatchObject({ leader: 'b', isr: ['b', 'c'] });
    // Refused once (NoIsrCandidates); a reachable replica out of the ISR (d) does not count.
    expect(c.attempts).toEqual(['orders/0']);

    const backAtMs = c.time.elapsedMs;
    await c.setReachable('c', true);
    await c.time.advance(0);

    expect(c.changes.map((x) => x.data)).toEqual([{ stream: 'orders', partition: 0, leader: 'c', isr: ['c'] }]);
    expect(c.changes[0]!.atMs).toBe(backAtMs);
  });

  it('logs a partition it cannot fail over once per 10 s with the attempts since, not at every attempt', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.shrinkIsr('orders', 0, 'd');
    const errors = jest.spyOn(silentLogger, 'error');
    c.failover.becomeController();
    await c.setReachable('c', false);
    await c.setReachable('b', false);

    // d (out of the ISR) comes and goes every 250 ms: each change is a reason to try again.
    for (let i = 0; i < 99; i++) {
      await c.time.advance(250);
      await c.setReachable('d', i % 2 === 1);
    }
    await c.time.advance(250);
    const lines = errors.mock.calls.filter(([, msg]) => msg === 'partition leader not replaced').map(([fields]) => (fields as { attempts: number }).attempts);
    errors.mockRestore();
    // 100 attempts in 25 s: the first, then one line per interval counting the attempts in between.
    expect(c.attempts).toHaveLength(100);
    expect(lines).toEqual([1, 40, 40]);
  });

  it('tries again after a pause when an attempt fails without an answer (a timeout, leadership moving)', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    c.failover.becomeController();
    const spy = jest.spyOn(c.server.metadata, 'execute');
    const recorded = spy.getMockImplementation()!;
    let failed = false;
    spy.mockImplementation((command, signal) => {
      if (command.type !== 'ChangePartitionLeader' || failed) return recorded(command, signal);
      failed = true;
      c.attempts.push('failed');
      return Promise.reject(new Error('metadata operation timed out'));
    });
    const markedAtMs = c.time.elapsedMs;
    await c.setReachable('b', false);
    await c.time.advance(RETRY_MS - 1);
    expect(c.changes).toEqual([]);
    await c.time.advance(1);
    expect(c.attempts).toEqual(['failed', 'orders/0']);
    expect(c.changes.map((x) => [x.atMs - markedAtMs, x.data.leader])).toEqual([[RETRY_MS, 'c']]);
  });

  it('tries again at once when the metadata changed while a refused attempt was on its way', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.shrinkIsr('orders', 0, 'd');
    c.failover.becomeController();
    const spy = jest.spyOn(c.server.metadata, 'execute');
    const recorded = spy.getMockImplementation()!;
    let answer: (() => void) | null = null;
    spy.mockImplementation((command, signal) => {
      if (command.type !== 'ChangePartitionLeader' || answer !== null) return recorded(command, signal);
      c.attempts.push('refused');
      // Decided while c was unreachable; the answer arrives after c came back.
      return new Promise((resolve) => (answer = () => resolve({ ok: false, error: { kind: 'NoIsrCandidates', stream: 'orders', partition: 0 } })));
    });
    await c.setReachable('c', false);
    await c.setReachable('b', false);
    await c.setReachable('c', true);
    expect(c.changes).toEqual([]);
    answer!();
    await c.time.advance(0);
    expect(c.attempts).toEqual(['refused', 'orders/0']);
    expect(c.changes.map((x) => x.data)).toEqual([{ stream: 'orders', partition: 0, leader: 'c', isr: ['c'] }]);
  });

  it('does nothing before this server becomes the controller, and nothing once it resigns (no timer left)', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    const timersBefore = c.time.pendingTimers;
    await c.setReachable('b', false);

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toEqual([]);

    // Becoming the controller looks at what happened before.
    c.failover.becomeController();
    c.failover.becomeController(); // a second call subscribes no second time
    await c.time.advance(0);
    expect(c.changes.map((x) => x.data.leader)).toEqual(['c']);
    expect(c.attempts).toEqual(['orders/0']);

    c.failover.resignController();
    expect(c.time.pendingTimers).toBe(timersBefore);
    // The new leader fails too, but this server is no longer the controller.
    await c.setReachable('c', false);
    await c.time.advance(A_WHILE_MS);
    expect(c.changes.map((x) => x.data.leader)).toEqual(['c']);
    expect(c.partition('orders')).toMatchObject({ leader: 'c', isr: ['c', 'd'] });
  });

  it('never touches a partition whose leader is reachable, even when one of its followers is not, nor a paused partition', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.run(createStream('audit', { replicationFactor: 3 }));
    await c.run(createStream('archive', { replicationFactor: 3 }));
    await c.run({ type: 'PauseStream', data: { name: 'archive', partitions: [], resumeAll: false, atNs: c.time.nowNs().toString() } });
    // audit lands on a, b, c (a carries no replica yet) and is led by a; archive on a, d, b, led by d.
    expect(c.partition('audit')).toMatchObject({ leader: 'a', isr: ['a', 'b', 'c'] });
    expect(c.partition('archive')).toMatchObject({ leader: 'd', paused: true });
    const audit = c.partition('audit');
    c.failover.becomeController();

    await c.setReachable('b', false);
    await c.setReachable('d', false);
    await c.time.advance(A_WHILE_MS);

    expect(c.attempts).toEqual(['orders/0']);
    expect(c.changes.map((x) => x.data)).toEqual([{ stream: 'orders', partition: 0, leader: 'c', isr: ['c', 'd'] }]);
    expect(c.partition('audit')).toBe(audit);
    expect(c.partition('archive')).toMatchObject({ leader: 'd', paused: true });
  });

  it('fails over a paused partition led by an unreachable broker once it is resumed', async () => {
    const c = await controller();
    await c.run(createStream('archive', { replicationFactor: 3 }));
    await c.run({ type: 'PauseStream', data: { name: 'archive', partitions: [], resumeAll: false, atNs: c.time.nowNs().toString() } });
    c.failover.becomeController();
    await c.setReachable('b', false);
    await c.time.advance(A_WHILE_MS);
    expect(c.attempts).toEqual([]);

    await c.run({ type: 'ResumeStream', data: { name: 'archive', partitions: [], atNs: c.time.nowNs().toString() } });
    await c.time.advance(0);
    expect(c.changes.map((x) => x.data)).toEqual([{ stream: 'archive', partition: 0, leader: 'c', isr: ['c', 'd'] }]);
  });

  it('ignores the partitions of a deleted stream', async () => {
    const c = await controller();
    await c.run(createStream('gone', { replicationFactor: 3, partitions: 2 }));
    c.failover.becomeController();
    await c.time.advance(RETRY_MS);

    await c.run({ type: 'DeleteStream', data: { name: 'gone' } });
    await c.setReachable('b', false);
    await c.time.advance(A_WHILE_MS);

    expect(c.attempts).toEqual([]);
    expect(c.changes).toEqual([]);
  });

  it('moves every partition of a failed leader at the same instant, each to a replica of its own ISR', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3, partitions: 3 }));
    await c.shrinkIsr('orders', 0, 'c');
    await c.shrinkIsr('orders', 1, 'd');
    expect([0, 1, 2].map((id) => c.partition('orders', id).isr)).toEqual([['b', 'd'], ['b', 'c'], ['b', 'c', 'd']]);
    c.failover.becomeController();

    await c.setReachable('b', false);
    await c.time.advance(0);

    // Partition 2 may go to c or d: each leads one now, so ISR order decides (c).
    expect(c.changes.map((x) => x.data)).toEqual([
      { stream: 'orders', partition: 0, leader: 'd', isr: ['d'] },
      { stream: 'orders', partition: 1, leader: 'c', isr: ['c'] },
      { stream: 'orders', partition: 2, leader: 'c', isr: ['c', 'd'] },
    ]);
    expect(new Set(c.changes.map((x) => x.atMs)).size).toBe(1);
    expect([0, 1, 2].map((id) => c.partition('orders', id).leader)).toEqual(['d', 'c', 'c']);
  });
});
