import type { NodeId } from './raft-message';

/** Majority quorums over one voter set (joint consensus is not implemented). Pure functions. */

export const quorumSize = (voterCount: number): number => Math.floor(voterCount / 2) + 1;

/**
 * The highest index that a majority of voters has persisted: sort the match indexes in
 * descending order and take the one at position quorum − 1. An empty voter set commits nothing.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorumSize(voters.length) - 1] ?? 0;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Won with a majority of grants, lost once a majority can no longer be reached. Votes from non-voters do not count. */
export function voteOutcome(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const quorum = quorumSize(voters.length);
  if (granted >= quorum) return 'won';
  if (voters.length - rejected < quorum) return 'lost';
  return 'pending';
}

/** True when a majority of voters is active. */
export const quorumActive = (voters: readonly NodeId[], isActive: (id: NodeId) => boolean): boolean =>
  voters.filter(isActive).length >= quorumSize(voters.length);
