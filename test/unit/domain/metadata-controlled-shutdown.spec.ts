import { decide } from '../../../src/domain/metadata/metadata-decide';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

/** Three brokers and a stream replicated on all three, led by a (the least loaded, first registered). */
const cluster = (...then: MetadataCommand[]): MetadataState =>
  stateAfter(registerBroker('a'), registerBroker('b'), registerBroker('c'), createStream('orders', { replicationFactor: 3 }), ...then);

const resign = (leader: string, leaderEpoch: number): MetadataCommand => ({ type: 'ResignPartitionLeader', data: { stream: 'orders', partition: 0, leader, leaderEpoch } });
const leave = (replica: string, leaderEpoch: number, isrSizeMin = 1): MetadataCommand => ({
  type: 'LeaveIsr',
  data: { stream: 'orders', partition: 0, replica, leaderEpoch, isrSizeMin },
});
const unreachable = (id: string): MetadataCommand => ({ type: 'SetBrokerReachable', data: { id, reachable: false, atNs: '1' } });

describe('ResignPartitionLeader (controlled shutdown)', () => {
  it('hands leadership to an in-sync replica on a reachable broker, and the resigning leader leaves the ISR', () => {
    const state = cluster(unreachable('b'));
    const p = state.streams.get('orders')!.partitions[0]!;
    expect(p.leader).toBe('a');
    const result = decide(resign('a', p.leaderEpoch), state);
    expect(result.ok && result.value.events).toEqual([{ type: 'PartitionLeaderChanged', data: { stream: 'orders', partition: 0, leader: 'c', isr: ['b', 'c'] } }]);
  });

  it('refuses a request for an epoch that is over, so a late or repeated one cannot move leadership twice', () => {
    const state = cluster();
    const epoch = state.streams.get('orders')!.partitions[0]!.leaderEpoch;
    expect(decide(resign('a', epoch - 1), state)).toMatchObject({ ok: false, error: { kind: 'LeaderGenerationMismatch', leader: 'a', leaderEpoch: epoch } });
    expect(decide(resign('b', epoch), state)).toMatchObject({ ok: false, error: { kind: 'LeaderGenerationMismatch' } });
  });

  it('refuses when no other in-sync replica is reachable (never an unclean election)', () => {
    const state = stateAfter(registerBroker('a'), registerBroker('b'), createStream('orders', { replicationFactor: 2 }), unreachable('b'));
    const epoch = state.streams.get('orders')!.partitions[0]!.leaderEpoch;
    expect(decide(resign('a', epoch), state)).toEqual({ ok: false, error: { kind: 'NoIsrCandidates', stream: 'orders', partition: 0 } });
  });

  it('refuses an unknown partition', () => {
    expect(decide({ type: 'ResignPartitionLeader', data: { stream: 'orders', partition: 5, leader: 'a', leaderEpoch: 1 } }, cluster())).toMatchObject({
      ok: false,
      error: { kind: 'PartitionNotFound' },
    });
  });
});

describe('LeaveIsr (controlled shutdown)', () => {
  it('removes a follower from the ISR of the epoch it follows', () => {
    const state = cluster();
    const epoch = state.streams.get('orders')!.partitions[0]!.leaderEpoch;
    const result = decide(leave('b', epoch, 2), state);
    expect(result.ok && result.value.events).toEqual([{ type: 'IsrShrunk', data: { stream: 'orders', partition: 0, replica: 'b' } }]);
  });

  it('keeps a follower when fewer than isrSizeMin members would remain', () => {
    const state = cluster();
    const epoch = state.streams.get('orders')!.partitions[0]!.leaderEpoch;
    expect(decide(leave('b', epoch, 3), state)).toEqual({ ok: false, error: { kind: 'IsrAtMinimum', stream: 'orders', partition: 0, isrSizeMin: 3 } });
  });

  it('is a no-op for a replica already out of the ISR, and refuses the leader, strangers and other epochs', () => {
    const state = cluster();
    const epoch = state.streams.get('orders')!.partitions[0]!.leaderEpoch;
    const shrunk = cluster({ type: 'ShrinkIsr', data: { stream: 'orders', partition: 0, replica: 'b', leader: 'a', leaderEpoch: epoch } });
    expect(decide(leave('b', epoch), shrunk)).toEqual({ ok: true, value: { events: [], expectations: [] } });
    expect(decide(leave('a', epoch), state)).toMatchObject({ ok: false, error: { kind: 'NotAReplica', replica: 'a' } });
    expect(decide(leave('z', epoch), state)).toMatchObject({ ok: false, error: { kind: 'NotAReplica', replica: 'z' } });
    expect(decide(leave('b', epoch + 1), state)).toMatchObject({ ok: false, error: { kind: 'LeaderGenerationMismatch' } });
  });
});
