import { PrometheusMetrics } from '../../../../../src/adapters/outbound/metrics/prometheus-metrics';
import { consumerGroupCounts } from '../../../../../src/application/groups/group-liveness-timers';
import { createStream, registerBroker, stateAfter } from '../../../../support/metadata-mothers';

describe('consumer-group metrics (docs/operability.md "Metrics")', () => {
  it('counts groups, members, and the groups and assigned partitions this server coordinates', () => {
    const state = stateAfter(
      registerBroker('a'),
      registerBroker('b'),
      createStream('orders', { partitions: 4 }),
      createStream('audit', { partitions: 2 }),
      { type: 'JoinConsumerGroup', data: { group: 'g1', consumer: 'c1', streams: ['orders'] } },
      { type: 'JoinConsumerGroup', data: { group: 'g1', consumer: 'c2', streams: ['orders', 'audit'] } },
      { type: 'JoinConsumerGroup', data: { group: 'g2', consumer: 'c3', streams: ['audit'] } },
    );
    const coordinators = [...state.groups.values()].map((g) => g.coordinator);
    const a = consumerGroupCounts(state, 'a');
    const b = consumerGroupCounts(state, 'b');
    expect([a.groups, a.members, b.groups, b.members]).toEqual([2, 3, 2, 3]);
    expect(a.coordinated + b.coordinated).toBe(2);
    // Every partition of every consumed stream is assigned once, on the server that coordinates its group.
    const g1Partitions = 4 + 2;
    const g2Partitions = 2;
    expect(a.assignedPartitions).toBe((coordinators[0] === 'a' ? g1Partitions : 0) + (coordinators[1] === 'a' ? g2Partitions : 0));
    expect(a.assignedPartitions + b.assignedPartitions).toBe(g1Partitions + g2Partitions);
  });

  it('are read when collected', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    metrics.watchConsumerGroups(() => ({ groups: 2, members: 5, coordinated: 1, assignedPartitions: 6 }));
    const text = await metrics.registry.metrics();
    expect(text).toContain('liftbridge_consumer_groups{scope="all"} 2');
    expect(text).toContain('liftbridge_consumer_groups{scope="coordinated"} 1');
    expect(text).toContain('liftbridge_consumer_group_members 5');
    expect(text).toContain('liftbridge_consumer_group_assigned_partitions 6');
  });
});
