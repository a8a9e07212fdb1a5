import fc from 'fast-check';
import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { emptyMetadataState, MetadataState } from '../../../src/domain/metadata/metadata-state';

const brokers = ['a', 'b', 'c'];
const names = ['s1', 's2', 's3'];

/** Any command a client could cause, valid or not (seeded by fast-check: every failure replays). */
const command: fc.Arbitrary<MetadataCommand> = fc.oneof(
  fc.record({ type: fc.constant('RegisterBroker' as const), data: fc.record({ id: fc.constantFrom(...brokers), host: fc.constant('h'), port: fc.integer({ min: 1, max: 3 }) }) }),
  fc.record({
    type: fc.constant('CreateStream' as const),
    data: fc.record({
      name: fc.constantFrom(...names, '', 'bad.name'),
      subject: fc.constantFrom('x', 'y.*', 'z.>', 'bad..subject'),
      group: fc.constant(''),
      replicationFactor: fc.integer({ min: -2, max: 4 }),
      partitions: fc.integer({ min: -1, max: 4 }),
      config: fc.constant({}),
      creationTimestampNs: fc.constant('1'),
      namespace: fc.constant('ns'),
    }),
  }),
  fc.record({ type: fc.constant('DeleteStream' as const), data: fc.record({ name: fc.constantFrom(...names) }) }),
  fc.record({
    type: fc.constantFrom('PauseStream' as const),
    data: fc.record({ name: fc.constantFrom(...names), partitions: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }), resumeAll: fc.boolean(), atNs: fc.constant('2') }),
  }),
  fc.record({
    type: fc.constant('ResumeStream' as const),
    data: fc.record({ name: fc.constantFrom(...names), partitions: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }), atNs: fc.constant('3') }),
  }),
  fc.record({
    type: fc.constant('SetStreamReadonly' as const),
    data: fc.record({ name: fc.constantFrom(...names), partitions: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }), readonly: fc.boolean(), atNs: fc.constant('4') }),
  }),
  // Leadership and ISR changes: epochs are entry indexes, so small ones match now and then.
  fc.record({ type: fc.constant('SetBrokerReachable' as const), data: fc.record({ id: fc.constantFrom(...brokers), reachable: fc.boolean(), atNs: fc.constant('5') }) }),
  fc.record({
    type: fc.constantFrom('ShrinkIsr' as const, 'ExpandIsr' as const),
    data: fc.record({ stream: fc.constantFrom(...names), partition: fc.integer({ min: 0, max: 2 }), replica: fc.constantFrom(...brokers), leader: fc.constantFrom(...brokers), leaderEpoch: fc.integer({ min: 1, max: 12 }) }),
  }),
  fc.record({
    type: fc.constant('ChangePartitionLeader' as const),
    data: fc.record({ stream: fc.constantFrom(...names), partition: fc.integer({ min: 0, max: 2 }), failedLeader: fc.constantFrom(...brokers) }),
  }),
  fc.record({
    type: fc.constant('VacateBroker' as const),
    data: fc.record({
      broker: fc.constantFrom(...brokers),
      atNs: fc.constant('6'),
      leads: fc.array(fc.record({ stream: fc.constantFrom(...names), partition: fc.integer({ min: 0, max: 2 }), leaderEpoch: fc.integer({ min: 1, max: 12 }) }), { maxLength: 3 }),
      follows: fc.array(
        fc.record({ stream: fc.constantFrom(...names), partition: fc.integer({ min: 0, max: 2 }), leaderEpoch: fc.integer({ min: 1, max: 12 }), isrSizeMin: fc.integer({ min: 1, max: 3 }) }),
        { maxLength: 3 },
      ),
    }),
  }),
);

/** Invariants every applied state must hold (docs/style.md "Tests": checked after every step). */
function checkInvariants(state: MetadataState): void {
  for (const stream of state.streams.values()) {
    expect(stream.partitions.length).toBeGreaterThan(0);
    stream.partitions.forEach((p, id) => {
      expect(p.id).toBe(id);
      expect(p.replicas.length).toBeGreaterThan(0);
      expect(new Set(p.replicas).size).toBe(p.replicas.length);
      for (const r of p.replicas) expect(state.brokers.has(r)).toBe(true);
      for (const r of p.isr) expect(p.replicas).toContain(r); // ISR ⊆ replicas
      expect(p.isr).toContain(p.leader); // leader ∈ ISR
      expect(p.leaderEpoch).toBeLessThanOrEqual(p.epoch);
      expect(p.epoch).toBeLessThanOrEqual(state.lastAppliedIndex);
    });
  }
}

describe('metadata properties', () => {
  it('any sequence of commands keeps the invariants, and refusals leave the state untouched', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        let state = emptyMetadataState();
        let index = 0;
        for (const c of commands) {
          const decision = decide(c, state);
          if (!decision.ok) continue; // a refusal is a value: nothing to apply
          const applied = applyProposal(state, { proposalId: String(index), ...decision.value }, ++index);
          expect(applied.outcome.kind).toBe('applied'); // decided against the current state, so it applies
          checkInvariants(applied.state);
          // Epochs never go backwards for a stream that existed before and after the step.
          for (const before of state.streams.values()) {
            const after = applied.state.streams.get(before.name);
            if (!after) continue;
            expect(after.version).toBeGreaterThanOrEqual(before.version);
            before.partitions.forEach((p, id) => {
              expect(after.partitions[id]!.epoch).toBeGreaterThanOrEqual(p.epoch);
              expect(after.partitions[id]!.leaderEpoch).toBeGreaterThanOrEqual(p.leaderEpoch);
            });
          }
          state = applied.state;
        }
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('replaying the same entries gives the same state (every server agrees)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        const entries: Parameters<typeof applyProposal>[1][] = [];
        let state = emptyMetadataState();
        for (const c of commands) {
          const decision = decide(c, state);
          if (!decision.ok) continue;
          const proposal = { proposalId: String(entries.length), ...decision.value };
          entries.push(proposal);
          state = applyProposal(state, proposal, entries.length).state;
        }
        let replayed = emptyMetadataState();
        entries.forEach((p, i) => (replayed = applyProposal(replayed, JSON.parse(JSON.stringify(p)), i + 1).state));
        expect(replayed).toEqual(state);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
