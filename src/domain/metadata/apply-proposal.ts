import { assert } from '../shared/assert';
import { MetadataEvent } from './metadata-events';
import { Expectation, MetadataProposal } from './metadata-proposal';
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
  for (const event of proposal.events) next = evolve(next, event, index);
  return { state: { ...next, lastAppliedIndex: index }, outcome: { kind: 'applied', events: proposal.events } };
}

function currentVersion(state: MetadataState, aggregate: string): number | 'absent' {
  const [kind, ...rest] = aggregate.split(':');
  const id = rest.join(':');
  if (kind === 'stream') return state.streams.get(id)?.version ?? 'absent';
  if (kind === 'broker') return state.brokers.has(id) ? 0 : 'absent';
  return 'absent';
}
