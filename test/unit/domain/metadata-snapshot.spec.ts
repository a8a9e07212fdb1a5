import fc from 'fast-check';
import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { decodeMetadataSnapshot, encodeMetadataSnapshot, MetadataSnapshotDecodeError } from '../../../src/domain/metadata/metadata-snapshot';
import { emptyMetadataState, MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, joinGroup, registerBroker, stateAfter } from '../../support/metadata-mothers';

const brokers = ['a', 'b', 'c'];
const names = ['s1', 's2', 's3'];
const partitionList = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 });

/** Valid-looking commands (the decider refuses the rest); each accepted one changes the state. */
const command: fc.Arbitrary<MetadataCommand> = fc.oneof(
  fc.record({ type: fc.constant('RegisterBroker' as const), data: fc.record({ id: fc.constantFrom(...brokers), host: fc.constantFrom('h', 'hé'), port: fc.integer({ min: 1, max: 65535 }) }) }),
  fc.record({
    type: fc.constant('CreateStream' as const),
    data: fc.record({
      name: fc.constantFrom(...names),
      subject: fc.constantFrom('x', 'y.*', 'z.>'),
      group: fc.constantFrom('', 'g'),
      replicationFactor: fc.integer({ min: -1, max: 3 }),
      partitions: fc.integer({ min: 1, max: 3 }),
      config: fc.record({ retentionMaxBytes: fc.integer({ min: 0, max: 1 << 30 }), compactEnabled: fc.boolean(), minIsr: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: [] }),
      creationTimestampNs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
      namespace: fc.constant('ns'),
    }),
  }),
  fc.record({ type: fc.constant('DeleteStream' as const), data: fc.record({ name: fc.constantFrom(...names) }) }),
  fc.record({ type: fc.constant('PauseStream' as const), data: fc.record({ name: fc.constantFrom(...names), partitions: partitionList, resumeAll: fc.boolean(), atNs: fc.constant('2') }) }),
  fc.record({ type: fc.constant('ResumeStream' as const), data: fc.record({ name: fc.constantFrom(...names), partitions: partitionList, atNs: fc.constant('3') }) }),
  fc.record({ type: fc.constant('SetStreamReadonly' as const), data: fc.record({ name: fc.constantFrom(...names), partitions: partitionList, readonly: fc.boolean(), atNs: fc.constant('4') }) }),
  fc.record({ type: fc.constant('SetBrokerReachable' as const), data: fc.record({ id: fc.constantFrom(...brokers), reachable: fc.boolean(), atNs: fc.constant('5') }) }),
  fc.record({
    type: fc.constant('JoinConsumerGroup' as const),
    data: fc.record({ group: fc.constantFrom('g1', 'g2'), consumer: fc.constantFrom('c1', 'c2', 'c3'), streams: fc.subarray(names, { minLength: 1 }) }),
  }),
  fc.record({ type: fc.constant('LeaveConsumerGroup' as const), data: fc.record({ group: fc.constantFrom('g1', 'g2'), consumer: fc.constantFrom('c1', 'c2', 'c3'), expired: fc.boolean() }) }),
);

/** A reachable state: commands decided and applied in order, with gaps in the indexes (Raft no-ops). */
const metadataState: fc.Arbitrary<MetadataState> = fc
  .array(fc.tuple(command, fc.integer({ min: 1, max: 3 })), { maxLength: 30 })
  .map((steps) => {
    let state = emptyMetadataState();
    let index = 0;
    for (const [c, gap] of steps) {
      const decision = decide(c, state);
      if (!decision.ok) continue;
      index += gap;
      state = applyProposal(state, { proposalId: String(index), ...decision.value }, index).state;
    }
    return state;
  });

describe('metadata snapshot codec', () => {
  it('round-trips any reachable state exactly, lastAppliedIndex included, and encodes deterministically', () => {
    fc.assert(
      fc.property(metadataState, (state) => {
        const data = encodeMetadataSnapshot(state);
        const decoded = decodeMetadataSnapshot(data);
        expect(decoded).toEqual(state);
        expect(decoded.lastAppliedIndex).toBe(state.lastAppliedIndex);
        expect([...decoded.streams.keys()]).toEqual([...state.streams.keys()]);
        expect(encodeMetadataSnapshot(decoded)).toBe(data);
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('round-trips the empty state and a hand-built one', () => {
    expect(decodeMetadataSnapshot(encodeMetadataSnapshot(emptyMetadataState()))).toEqual(emptyMetadataState());
    const state = stateAfter(registerBroker('a'), createStream('orders', { partitions: 2, config: { retentionMaxMessages: 10, encryption: true } }));
    const decoded = decodeMetadataSnapshot(encodeMetadataSnapshot(state));
    expect(decoded).toEqual(state);
    expect(decoded.streams.get('orders')?.partitions).toHaveLength(2);
    expect(decoded.streams.get('orders')?.config).toEqual({ retentionMaxMessages: 10, encryption: true });
  });

  it('round-trips consumer groups, member order and a changed coordinator included', () => {
    let state = stateAfter(registerBroker('a'), registerBroker('b'), createStream('s1'), createStream('s2'), joinGroup('g', 'z', 's2', 's1'), joinGroup('g', 'y', 's1'));
    const group = state.groups.get('g')!;
    const changed = decide({ type: 'ChangeGroupCoordinator', data: { group: 'g', coordinator: group.coordinator, epoch: group.epoch } }, state);
    if (!changed.ok) throw new Error(changed.error.kind);
    state = applyProposal(state, { proposalId: 'c', ...changed.value }, state.lastAppliedIndex + 1).state;
    const decoded = decodeMetadataSnapshot(encodeMetadataSnapshot(state));
    expect(decoded).toEqual(state);
    expect(decoded.groups.get('g')).toEqual({
      id: 'g',
      coordinator: 'b',
      epoch: state.lastAppliedIndex,
      members: [
        { id: 'z', streams: ['s1', 's2'] },
        { id: 'y', streams: ['s1'] },
      ],
    });
  });

  it('reads a schema 1 snapshot, which had no groups, as a state without groups', () => {
    const v1 = { ...(JSON.parse(encodeMetadataSnapshot(stateAfter(registerBroker('a'), createStream('orders')))) as Record<string, unknown>), v: 1, groups: undefined };
    expect(decodeMetadataSnapshot(JSON.stringify(v1)).groups.size).toBe(0);
  });

  const grouped = JSON.parse(encodeMetadataSnapshot(stateAfter(registerBroker('a'), createStream('orders'), joinGroup('g', 'c', 'orders')))) as Record<string, unknown>;
  const withGroup = (patch: Record<string, unknown>): string => JSON.stringify({ ...grouped, groups: [{ ...(grouped.groups as Record<string, unknown>[])[0], ...patch }] });

  it.each<[string, string, RegExp]>([
    ['a schema 2 snapshot without groups', JSON.stringify({ ...grouped, groups: undefined }), /groups is not an array/],
    ['a duplicate group', JSON.stringify({ ...grouped, groups: [...(grouped.groups as unknown[]), ...(grouped.groups as unknown[])] }), /group g appears twice/],
    ['a group without members', withGroup({ members: [] }), /groups\[0\] has no members/],
    ['a member listed twice', withGroup({ members: [{ id: 'c', streams: [] }, { id: 'c', streams: [] }] }), /lists a member twice/],
    ['a member without streams', withGroup({ members: [{ id: 'c' }] }), /members\[0\]\.streams is not an array/],
    ['a negative epoch', withGroup({ epoch: -1 }), /groups\[0\]\.epoch/],
    ['a group without coordinator', withGroup({ coordinator: undefined }), /groups\[0\]\.coordinator is not a string/],
  ])('refuses %s', (_what, data, message) => {
    expect(() => decodeMetadataSnapshot(data)).toThrow(message);
  });

  const valid = JSON.parse(encodeMetadataSnapshot(stateAfter(registerBroker('a'), createStream('orders')))) as Record<string, unknown>;
  const withStream = (patch: Record<string, unknown>): string =>
    JSON.stringify({ ...valid, streams: [{ ...(valid.streams as Record<string, unknown>[])[0], ...patch }] });

  it.each<[string, string | Uint8Array, RegExp]>([
    ['not JSON', '{oops', /not JSON/],
    ['bytes', new Uint8Array([1, 2]), /bytes/],
    ['an array', '[]', /snapshot is not an object/],
    ['another schema version', JSON.stringify({ ...valid, v: 3 }), /unknown schema version 3/],
    ['a missing version', JSON.stringify({ ...valid, v: undefined }), /unknown schema version/],
    ['a negative lastAppliedIndex', JSON.stringify({ ...valid, lastAppliedIndex: -1 }), /lastAppliedIndex/],
    ['brokers as an object', JSON.stringify({ ...valid, brokers: {} }), /brokers is not an array/],
    ['a broker without a port', JSON.stringify({ ...valid, brokers: [{ id: 'a', host: 'h', reachable: true }] }), /brokers\[0\]\.port/],
    ['a duplicate broker', JSON.stringify({ ...valid, brokers: [...(valid.brokers as unknown[]), ...(valid.brokers as unknown[])] }), /broker a appears twice/],
    ['a duplicate stream', JSON.stringify({ ...valid, streams: [...(valid.streams as unknown[]), ...(valid.streams as unknown[])] }), /stream orders appears twice/],
    ['a bad timestamp', withStream({ creationTimestampNs: 12 }), /creationTimestampNs is not a decimal string/],
    ['an unknown config field', withStream({ config: { retentionMaxBytes: 1, bogus: true } }), /unknown field bogus/],
    ['partitions out of order', withStream({ partitions: [{ ...((valid.streams as { partitions: Record<string, unknown>[] }[])[0].partitions[0]), id: 1 }] }), /partitions\[0\] is orders\/1/],
    ['a partition without isr', withStream({ partitions: [{ ...((valid.streams as { partitions: Record<string, unknown>[] }[])[0].partitions[0]), isr: undefined }] }), /partitions\[0\]\.isr is not an array/],
  ])('refuses %s with a clear error', (_what, data, message) => {
    expect(() => decodeMetadataSnapshot(data)).toThrow(MetadataSnapshotDecodeError);
    expect(() => decodeMetadataSnapshot(data)).toThrow(message);
  });
});
