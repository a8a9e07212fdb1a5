import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import { FAILOVER_LOG_INTERVAL_MS, PartitionFailover } from '../../../../src/application/cluster/partition-failover';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import type { PartitionLeaderChanged } from '../../../../src/domain/metadata/metadata-events';
import { silentLogger } from '../../../support/memory-broker';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, startServer } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** The controller's rescan period (SCAN_INTERVAL_MS in partition-failover.ts). */
const RESCAN_MS = 250;
/** Many rescans: long enough for anything the failover would do to have happened. */
const A_WHILE_MS = 20 * RESCAN_MS;

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
  it('gives a partition whose leader broker became unreachable a leader from its ISR within one rescan, and not before', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    expect(c.partition('orders')).toMatchObject({ leader: 'b', isr: ['b', 'c', 'd'] });
    c.failover.becomeController();

    await c.time.advance(A_WHILE_MS + RESCAN_MS / 2);
    expect(c.changes).toEqual([]);

    const markedAtMs = c.time.elapsedMs;
    await c.setReachable('b', false);
    expect(c.changes).toEqual([]);
    await c.time.advance(RESCAN_MS);

    // c and d lead nothing: the first in ISR order wins; b leaves the ISR.
    expect(c.changes).toEqual([{ atMs: expect.any(Number), index: expect.any(Number), data: { stream: 'orders', partition: 0, leader: 'c', isr: ['c', 'd'] } }]);
    const [change] = c.changes;
    expect(change!.atMs).toBeGreaterThan(markedAtMs);
    expect(change!.atMs).toBeLessThanOrEqual(markedAtMs + RESCAN_MS);
    expect(c.partition('orders')).toMatchObject({ leader: 'c', isr: ['c', 'd'], leaderEpoch: change!.index });

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toHaveLength(1);
  });

  it('records no change while no in-sync replica is reachable, even with a reachable replica out of the ISR, and moves the leadership once one is reachable again', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.shrinkIsr('orders', 0, 'd');
    expect(c.partition('orders')).toMatchObject({ leader: 'b', replicas: ['b', 'c', 'd'], isr: ['b', 'c'] });
    c.failover.becomeController();
    await c.setReachable('b', false);
    await c.setReachable('c', false);

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toEqual([]);
    expect(c.partition('orders')).toMatchObject({ leader: 'b', isr: ['b', 'c'] });
    // Refused (NoIsrCandidates) and asked again at every rescan.
    expect(c.attempts).toEqual(Array(A_WHILE_MS / RESCAN_MS).fill('orders/0'));

    const backAtMs = c.time.elapsedMs;
    await c.setReachable('c', true);
    await c.time.advance(RESCAN_MS);

    expect(c.changes.map((x) => x.data)).toEqual([{ stream: 'orders', partition: 0, leader: 'c', isr: ['c'] }]);
    expect(c.changes[0]!.atMs).toBeGreaterThan(backAtMs);
    expect(c.changes[0]!.atMs).toBeLessThanOrEqual(backAtMs + RESCAN_MS);
  });

  it('logs a partition it cannot fail over once per 10 s with the attempts since, not at every rescan', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    await c.shrinkIsr('orders', 0, 'd');
    const errors = jest.spyOn(silentLogger, 'error');
    c.failover.becomeController();
    await c.setReachable('b', false);
    await c.setReachable('c', false);

    await c.time.advance(FAILOVER_LOG_INTERVAL_MS * 2.5);
    const lines = errors.mock.calls.filter(([, msg]) => msg === 'partition leader not replaced').map(([fields]) => (fields as { attempts: number }).attempts);
    errors.mockRestore();
    // 100 rescans in 25 s: the first attempt, then one line per interval counting the attempts in between.
    expect(c.attempts).toHaveLength((FAILOVER_LOG_INTERVAL_MS * 2.5) / RESCAN_MS);
    expect(lines).toEqual([1, FAILOVER_LOG_INTERVAL_MS / RESCAN_MS, FAILOVER_LOG_INTERVAL_MS / RESCAN_MS]);
  });

  it('does nothing before this server becomes the controller, and stops rescanning (no timer left) once it resigns', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3 }));
    const timersBefore = c.time.pendingTimers;
    await c.setReachable('b', false);

    await c.time.advance(A_WHILE_MS);
    expect(c.changes).toEqual([]);

    c.failover.becomeController();
    c.failover.becomeController(); // a second call adds no second scanner
    expect(c.time.pendingTimers).toBe(timersBefore + 1);
    await c.time.advance(RESCAN_MS);
    expect(c.changes.map((x) => x.data.leader)).toEqual(['c']);

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

  it('ignores the partitions of a deleted stream', async () => {
    const c = await controller();
    await c.run(createStream('gone', { replicationFactor: 3, partitions: 2 }));
    c.failover.becomeController();
    await c.time.advance(RESCAN_MS);

    await c.run({ type: 'DeleteStream', data: { name: 'gone' } });
    await c.setReachable('b', false);
    await c.time.advance(A_WHILE_MS);

    expect(c.attempts).toEqual([]);
    expect(c.changes).toEqual([]);
  });

  it('moves every partition of a failed leader in the same rescan, each to a replica of its own ISR', async () => {
    const c = await controller();
    await c.run(createStream('orders', { replicationFactor: 3, partitions: 3 }));
    await c.shrinkIsr('orders', 0, 'c');
    await c.shrinkIsr('orders', 1, 'd');
    expect([0, 1, 2].map((id) => c.partition('orders', id).isr)).toEqual([['b', 'd'], ['b', 'c'], ['b', 'c', 'd']]);
    c.failover.becomeController();

    await c.setReachable('b', false);
    await c.time.advance(RESCAN_MS);

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
