import { assert, unreachable } from '../shared/assert';
import { MetadataEvent } from './metadata-events';
import { EntryScratch } from './entry-scratch';
import { AggregateRef, Expectation, MetadataProposal } from './metadata-proposal';
import { evolve } from './metadata-evolve';
import { MetadataState } from './metadata-state';

export type ApplyOutcome =
  | { readonly kind: 'applied'; readonly events: readonly MetadataEvent[] }
  | { readonly kind: 'rejected'; readonly failed: Expectation };

/**
 * Applies one committed log entry on every node (docs/style.md "Metadata events", step 4): if any expectation no longer
 * holds, the state is unchanged and the outcome is 'rejected' (the proposer re-decides); otherwise
 * the events are folded in. Reads nothing but its arguments, so all nodes agree.
 */
export function applyProposal(
  state: MetadataState,
  proposal: MetadataProposal,
  index: number,
): { state: MetadataState; outcome: ApplyOutcome } {
  assert(index > state.lastAppliedIndex, `entry ${index} applied after ${state.lastAppliedIndex}`);
  for (const expectation of proposal.expectations) {
    if (currentVersion(state, expectation.aggregate) !== expectation.version) {
      return { state: { ...state, lastAppliedIndex: index }, outcome: { kind: 'rejected', failed: expectation } };
    }
  }
  let next = state;
  const scratch = new EntryScratch(); // this entry's alone: dropped once it is applied
  for (const event of proposal.events) next = evolve(next, event, index, scratch);
  return { state: { ...next, lastAppliedIndex: index }, outcome: { kind: 'applied', events: proposal.events } };
}

/** The version of an aggregate now, or 'absent'. */
export function currentVersion(state: MetadataState, ref: AggregateRef): number | 'absent' {
  switch (ref.kind) {
    case 'stream':
      return state.streams.get(ref.stream)?.version ?? 'absent';
    case 'partition':
      return state.streams.get(ref.stream)?.partitions[ref.partition]?.epoch ?? 'absent';
    case 'broker':
      return state.brokers.get(ref.broker)?.version ?? 'absent';
    case 'group':
      return state.groups.get(ref.group)?.epoch ?? 'absent';
    case 'stream-v1': {
      const stream = state.streams.get(ref.stream);
      if (stream === undefined) return 'absent';
      let latest = stream.version;
      for (const p of stream.partitions) latest = Math.max(latest, p.epoch);
      return latest;
    }
    case 'broker-v1':
      return state.brokers.has(ref.broker) ? 0 : 'absent';
    default:
      return unreachable(ref);
  }
}
