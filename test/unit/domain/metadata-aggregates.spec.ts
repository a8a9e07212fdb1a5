import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

const AT = '1700000000000000009';

/** Decides every command against the same state, then applies them in order: the outcome of each. */
function race(state: MetadataState, ...commands: MetadataCommand[]): { outcomes: string[]; state: MetadataState } {
  const decisions = commands.map((command) => {
    const decided = decide(command, state);
    if (!decided.ok) throw new Error(`${command.type}: ${decided.error.kind}`);
    return decided.value;
  });
  let current = state;
  const outcomes: string[] = [];
  for (const [i, decision] of decisions.entries()) {
    const applied = applyProposal(current, { proposalId: `p${i}`, ...decision }, current.lastAppliedIndex + 1);
    current = applied.state;
    outcomes.push(applied.outcome.kind);
  }
  return { outcomes, state: current };
}

const threeBrokers = (): MetadataState =>
  stateAfter(registerBroker('a'), registerBroker('b'), registerBroker('c'), createStream('orders', { partitions: 4, replicationFactor: 3 }));

const shrink = (state: MetadataState, partition: number, replica: string): MetadataCommand => {
  const p = state.streams.get('orders')!.partitions[partition]!;
  return { type: 'ShrinkIsr', data: { stream: 'orders', partition, replica, leader: p.leader, leaderEpoch: p.leaderEpoch } };
};
const follower = (state: MetadataState, partition: number): string => {
  const p = state.streams.get('orders')!.partitions[partition]!;
  return p.replicas.find((r) => r !== p.leader)!;
};

describe('the Stream, Partition and Cluster aggregates (docs/architecture.md "Aggregates")', () => {
  it('changes to different partitions of one stream never conflict', () => {
    const state = threeBrokers();
    const pause3: MetadataCommand = { type: 'PauseStream', data: { name: 'orders', partitions: [3], resumeAll: false, atNs: AT } };
    const { outcomes, state: after } = race(state, pause3, shrink(state, 0, follower(state, 0)));
    expect(outcomes).toEqual(['applied', 'applied']);
    const orders = after.streams.get('orders')!;
    expect(orders.partitions[3]!.paused).toBe(true);
    expect(orders.partitions[0]!.isr).not.toContain(follower(state, 0));
  });

  it('two changes to the same partition decided on the same state: the second is rejected, to be decided again', () => {
    const state = threeBrokers();
    const readonly0: MetadataCommand = { type: 'SetStreamReadonly', data: { name: 'orders', partitions: [0], readonly: true, atNs: AT } };
    const { outcomes, state: after } = race(state, shrink(state, 0, follower(state, 0)), readonly0);
    expect(outcomes).toEqual(['applied', 'rejected']);
    expect(after.streams.get('orders')!.partitions[0]!.readonly).toBe(false);
    expect(decide(readonly0, after)).toMatchObject({ ok: true, value: { events: [{ type: 'PartitionReadonlyChanged' }] } });
  });

  it('a pause that changes the stream-wide resumeAll conflicts with another one that read it', () => {
    const state = threeBrokers();
    const pause = (partition: number, resumeAll: boolean): MetadataCommand => ({ type: 'PauseStream', data: { name: 'orders', partitions: [partition], resumeAll, atNs: AT } });
    expect(race(state, pause(1, true), pause(2, false)).outcomes).toEqual(['applied', 'rejected']);
    expect(race(state, pause(1, false), pause(2, false)).outcomes).toEqual(['applied', 'applied']);
  });

  it('a broker has its own version: reachability changes of two brokers never conflict, two of one broker do', () => {
    const state = threeBrokers();
    const unreachable = (id: string, atNs = AT): MetadataCommand => ({ type: 'SetBrokerReachable', data: { id, reachable: false, atNs } });
    expect(race(state, unreachable('b'), unreachable('c')).outcomes).toEqual(['applied', 'applied']);
    expect(race(state, unreachable('b'), unreachable('b', '1700000000000000010')).outcomes).toEqual(['applied', 'rejected']);
    const registered = stateAfter(registerBroker('a'));
    expect(registered.brokers.get('a')!.version).toBe(1);
  });

  it('deleting a stream expects the stream only: a racing ISR change does not stop the delete', () => {
    const state = threeBrokers();
    const { outcomes, state: after } = race(state, shrink(state, 1, follower(state, 1)), { type: 'DeleteStream', data: { name: 'orders' } });
    expect(outcomes).toEqual(['applied', 'applied']);
    expect(after.streams.has('orders')).toBe(false);
  });

  it('a stream created twice on the same state: the second expects it absent and is rejected', () => {
    const state = stateAfter(registerBroker('a'));
    expect(race(state, createStream('orders'), createStream('orders')).outcomes).toEqual(['applied', 'rejected']);
  });

  it('an entry of many events leaves every earlier state as it was (its events share one copy of the stream map)', () => {
    const before = threeBrokers();
    const ordersBefore = before.streams.get('orders');
    const { state: one } = race(before, createStream('audit', { partitions: 3 }));
    const { state: two } = race(one, createStream('billing', { partitions: 2 }), { type: 'DeleteStream', data: { name: 'orders' } });
    expect([...before.streams.keys()]).toEqual(['orders']);
    expect(before.streams.get('orders')).toBe(ordersBefore);
    expect([...one.streams.keys()]).toEqual(['orders', 'audit']);
    expect(one.streams.get('audit')!.partitions.map((p) => p.id)).toEqual([0, 1, 2]);
    expect([...two.streams.keys()]).toEqual(['audit', 'billing']);
    expect(two.streams.get('billing')!.partitions).toHaveLength(2);
    expect(new Set([before.streams, one.streams, two.streams]).size).toBe(3);
  });
});
