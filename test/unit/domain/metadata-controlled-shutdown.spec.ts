import { decide } from '../../../src/domain/metadata/metadata-decide';
import { MetadataCommand, VacateBroker } from '../../../src/domain/metadata/metadata-commands';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

/** Brokers a, b, c and the given streams, each replicated on all three and led by a (placement order). */
const cluster = (...then: MetadataCommand[]): MetadataState =>
  stateAfter(registerBroker('a'), registerBroker('b'), registerBroker('c'), createStream('orders', { replicationFactor: 3, partitions: 2 }), ...then);

const epochOf = (state: MetadataState, stream: string, partition = 0): number => state.streams.get(stream)!.partitions[partition]!.leaderEpoch;

const vacate = (broker: string, data: Partial<VacateBroker['data']>): MetadataCommand => ({
  type: 'VacateBroker',
  data: { broker, atNs: '9', leads: [], follows: [], ...data },
});

const eventsOf = (state: MetadataState, command: MetadataCommand): unknown[] => {
  const result = decide(command, state);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
  return [...result.value.events];
};

describe('VacateBroker (controlled shutdown)', () => {
  it('records the broker unreachable and hands each partition it leads to in-sync replicas, spreading the leaderships', () => {
    const state = cluster();
    expect(state.streams.get('orders')!.partitions.map((p) => p.leader)).toEqual(['a', 'a']);
    const leads = [0, 1].map((partition) => ({ stream: 'orders', partition, leaderEpoch: epochOf(state, 'orders', partition) }));
    expect(eventsOf(state, vacate('a', { leads }))).toEqual([
      { type: 'BrokerReachabilityChanged', data: { id: 'a', reachable: false, atNs: '9' } },
      { type: 'PartitionLeaderChanged', data: { stream: 'orders', partition: 0, leader: 'b', isr: ['b', 'c'] } },
      { type: 'PartitionLeaderChanged', data: { stream: 'orders', partition: 1, leader: 'c', isr: ['b', 'c'] } },
    ]);
  });

  it('takes a follower out of an ISR only while at least isrSizeMin members remain', () => {
    const state = cluster();
    const epoch = epochOf(state, 'orders');
    expect(eventsOf(state, vacate('b', { follows: [{ stream: 'orders', partition: 0, leaderEpoch: epoch, isrSizeMin: 2 }] }))).toEqual([
      { type: 'BrokerReachabilityChanged', data: { id: 'b', reachable: false, atNs: '9' } },
      { type: 'IsrShrunk', data: { stream: 'orders', partition: 0, replica: 'b' } },
    ]);
    expect(eventsOf(state, vacate('b', { follows: [{ stream: 'orders', partition: 0, leaderEpoch: epoch, isrSizeMin: 3 }] }))).toEqual([
      { type: 'BrokerReachabilityChanged', data: { id: 'b', reachable: false, atNs: '9' } },
    ]);
  });

  it('skips items of an epoch that is over, so a late or repeated request moves nothing twice', () => {
    const state = cluster();
    const leads = [{ stream: 'orders', partition: 0, leaderEpoch: epochOf(state, 'orders') }];
    const once = stateAfter(
      registerBroker('a'), registerBroker('b'), registerBroker('c'), createStream('orders', { replicationFactor: 3, partitions: 2 }),
      vacate('a', { leads }),
      { type: 'RegisterBroker', data: { id: 'a', host: 'localhost', port: 9292 } }, // a restarted
    );
    expect(once.streams.get('orders')!.partitions[0]!.leader).toBe('b');
    expect(eventsOf(once, vacate('a', { leads }))).toEqual([{ type: 'BrokerReachabilityChanged', data: { id: 'a', reachable: false, atNs: '9' } }]);
    expect(eventsOf(once, vacate('b', { follows: [{ stream: 'orders', partition: 0, leaderEpoch: epochOf(state, 'orders'), isrSizeMin: 1 }] }))).toEqual([
      { type: 'BrokerReachabilityChanged', data: { id: 'b', reachable: false, atNs: '9' } },
    ]);
  });

  it('leaves a partition with no other reachable in-sync replica where it is (never an unclean election)', () => {
    const state = stateAfter(
      registerBroker('a'), registerBroker('b'), createStream('orders', { replicationFactor: 2 }),
      { type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1' } },
    );
    expect(eventsOf(state, vacate('a', { leads: [{ stream: 'orders', partition: 0, leaderEpoch: epochOf(state, 'orders') }] }))).toEqual([
      { type: 'BrokerReachabilityChanged', data: { id: 'a', reachable: false, atNs: '9' } },
    ]);
  });

  it('ignores unknown partitions and brokers, and is a no-op for a broker already vacated', () => {
    const state = cluster();
    expect(eventsOf(state, vacate('z', { leads: [{ stream: 'orders', partition: 0, leaderEpoch: 1 }] }))).toEqual([]);
    const gone = cluster({ type: 'SetBrokerReachable', data: { id: 'c', reachable: false, atNs: '1' } });
    expect(decide(vacate('c', { leads: [{ stream: 'nope', partition: 0, leaderEpoch: 1 }], follows: [{ stream: 'orders', partition: 7, leaderEpoch: 1, isrSizeMin: 1 }] }), gone)).toEqual({
      ok: true,
      value: { events: [], expectations: [] },
    });
  });

  it('a broker it vacated gets no ISR place back from a late fetch (Kafka KIP-841), until it registers again', () => {
    const state = cluster();
    const epoch = epochOf(state, 'orders');
    const expand: MetadataCommand = { type: 'ExpandIsr', data: { stream: 'orders', partition: 0, replica: 'b', leader: 'a', leaderEpoch: epoch } };
    const vacated = cluster(vacate('b', { follows: [{ stream: 'orders', partition: 0, leaderEpoch: epoch, isrSizeMin: 1 }] }));
    expect(decide(expand, vacated)).toEqual({ ok: false, error: { kind: 'BrokerUnreachable', broker: 'b' } });
    const back = cluster(vacate('b', { follows: [{ stream: 'orders', partition: 0, leaderEpoch: epoch, isrSizeMin: 1 }] }), registerBroker('b'));
    expect(eventsOf(back, expand)).toEqual([{ type: 'IsrExpanded', data: { stream: 'orders', partition: 0, replica: 'b' } }]);
  });
});
