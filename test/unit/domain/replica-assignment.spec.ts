import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { emptyMetadataState, MetadataState } from '../../../src/domain/metadata/metadata-state';
import { BrokerLoad, brokerLoads } from '../../../src/domain/partition/replica-assignment';
import { createStream, deleteStream, registerBroker } from '../../support/metadata-mothers';

const AT = '1700000000000000009';

/** The loads counted partition by partition, the way placement is specified (docs/cluster.md "Placement"). */
function countedLoads(state: MetadataState, reachableOnly: boolean): Map<string, BrokerLoad> {
  const loads = new Map<string, BrokerLoad>();
  for (const b of state.brokers.values()) if (!reachableOnly || b.reachable) loads.set(b.id, { partitions: 0, leaders: 0 });
  for (const stream of state.streams.values()) {
    for (const p of stream.partitions) {
      if (p.paused) continue;
      for (const r of p.replicas) if (loads.has(r)) loads.get(r)!.partitions++;
      if (loads.has(p.leader)) loads.get(p.leader)!.leaders++;
    }
  }
  return loads;
}

function apply(state: MetadataState, command: MetadataCommand): MetadataState {
  const decision = decide(command, state);
  if (!decision.ok) throw new Error(`${command.type} refused: ${JSON.stringify(decision.error)}`);
  return applyProposal(state, { proposalId: `p${state.lastAppliedIndex}`, ...decision.value }, state.lastAppliedIndex + 1).state;
}

describe('brokerLoads (kept per stream)', () => {
  it('equals the loads counted partition by partition after every kind of change, old states unchanged', () => {
    const steps: MetadataCommand[] = [
      registerBroker('a'),
      registerBroker('b'),
      registerBroker('c'),
      createStream('s1', { partitions: 3, replicationFactor: 2 }),
      createStream('s2', { partitions: 2, replicationFactor: 3 }),
      { type: 'PauseStream', data: { name: 's1', partitions: [1], resumeAll: false, atNs: AT } },
      { type: 'SetBrokerReachable', data: { id: 'c', reachable: false, atNs: AT } },
      createStream('s3', { partitions: 4, replicationFactor: 1 }),
      { type: 'ResumeStream', data: { name: 's1', partitions: [1], atNs: AT } },
      deleteStream('s2'),
      createStream('s4', { partitions: 2, replicationFactor: 2 }),
    ];
    const states: MetadataState[] = [];
    let state = emptyMetadataState();
    for (const step of steps) {
      state = apply(state, step);
      states.push(state);
      // Asked twice: the second answer comes from the kept counts.
      for (let i = 0; i < 2; i++) {
        expect(brokerLoads(state)).toEqual(countedLoads(state, false));
        expect(brokerLoads(state, { reachableOnly: true })).toEqual(countedLoads(state, true));
      }
    }
    for (const earlier of states) expect(brokerLoads(earlier)).toEqual(countedLoads(earlier, false));
    expect([...brokerLoads(state).entries()]).toEqual([...countedLoads(state, false).entries()]); // registration order
    expect([...brokerLoads(state).values()].reduce((sum, l) => sum + l.partitions, 0)).toBeGreaterThan(0);
  });
});
