import { InMemoryClusterHub } from '../../../../src/adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryMetadataLog } from '../../../../src/adapters/outbound/memory/in-memory-metadata-log';
import type { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { createStream } from '../../../support/metadata-mothers';
import { FakeRaftGroup, startServer } from './cluster-fixtures';
import { VirtualTime } from '../../../support/virtual-time';

/** Controller 'a' of brokers a, b, c with stream 'orders' (RF 3); reports arrive forwarded, as from followers. */
async function controller() {
  const hub = new InMemoryClusterHub();
  const time = new VirtualTime();
  const group = new FakeRaftGroup({ isLeader: true, leader: 'a', voters: ['a'] });
  const server = await startServer({ hub, time, log: new InMemoryMetadataLog(), group, settings: { serverId: 'a' } });
  for (const id of ['a', 'b', 'c']) await server.metadata.execute({ type: 'RegisterBroker', data: { id, host: `${id}.local`, port: 9292 } });
  const created = await server.metadata.execute(createStream('orders', { replicationFactor: 3 }));
  if (!created.ok) throw new Error(JSON.stringify(created.error));
  server.role.start();
  await time.advance(0);
  const partition = () => server.metadata.state.streams.get('orders')!.partitions[0]!;
  const report = (replica: string, p = partition()): MetadataCommand => ({
    type: 'ReportLeader',
    data: { stream: 'orders', partition: 0, replica, leader: p.leader, leaderEpoch: p.leaderEpoch },
  });
  return { hub, time, server, partition, report, forward: (c: MetadataCommand) => hub.connect().forward(c, 1000) };
}

describe('the controller counts followers reporting a silent partition leader', () => {
  it('replaces the leader by an in-sync follower once both followers of an ISR of three reported it, and records nothing before', async () => {
    const c = await controller();
    const before = c.partition();
    const [first, second] = before.isr.filter((r) => r !== before.leader);
    const indexBefore = c.server.metadata.state.lastAppliedIndex;

    expect(await c.forward(c.report(first!))).toEqual({ kind: 'applied', events: [], index: indexBefore });
    expect(c.partition().leader).toBe(before.leader);

    const answer = await c.forward(c.report(second!, before));
    expect(answer.kind).toBe('applied');
    const after = c.partition();
    expect(after.leader).not.toBe(before.leader);
    expect([first, second]).toContain(after.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
  });

  it('lets reports expire after the leader timeout', async () => {
    const c = await controller();
    const before = c.partition();
    const [first, second] = before.isr.filter((r) => r !== before.leader);
    await c.forward(c.report(first!));
    await c.time.advance(15_001); // the default leader timeout
    await c.forward(c.report(second!));
    expect(c.partition().leader).toBe(before.leader);
  });

  it('refuses a report of another leader generation, from outside the ISR, or from the leader itself', async () => {
    const c = await controller();
    const p = c.partition();
    const follower = p.isr.find((r) => r !== p.leader)!;
    const stale: MetadataCommand = { type: 'ReportLeader', data: { stream: 'orders', partition: 0, replica: follower, leader: p.leader, leaderEpoch: p.leaderEpoch - 1 } };
    expect(await c.forward(stale)).toEqual({
      kind: 'refused',
      error: { kind: 'LeaderGenerationMismatch', stream: 'orders', partition: 0, leader: p.leader, leaderEpoch: p.leaderEpoch },
    });
    expect(await c.forward(c.report(p.leader))).toEqual({ kind: 'refused', error: { kind: 'NotAReplica', stream: 'orders', partition: 0, replica: p.leader } });
    expect(await c.forward(c.report('z'))).toEqual({ kind: 'refused', error: { kind: 'NotAReplica', stream: 'orders', partition: 0, replica: 'z' } });
    const missing: MetadataCommand = { type: 'ReportLeader', data: { stream: 'nope', partition: 0, replica: follower, leader: p.leader, leaderEpoch: p.leaderEpoch } };
    expect(await c.forward(missing)).toEqual({ kind: 'refused', error: { kind: 'PartitionNotFound', stream: 'nope', partition: 0 } });
  });
});
