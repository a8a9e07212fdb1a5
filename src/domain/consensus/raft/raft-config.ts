import { assert } from '../../shared/assert';
import type { Prng } from '../../shared/prng';
import type { NodeId } from './raft-message';

/** Everything the core needs is passed here explicitly; there are no defaults hidden inside it. */
export interface RaftConfig {
  readonly id: NodeId;
  /**
   * The voting members this node starts with when neither its snapshot nor its applied log says
   * otherwise, this node included if it votes. A node that is not a voter never campaigns; a
   * joining node starts with the group's voters and becomes one when its AddVoter entry applies.
   */
  readonly voters: readonly NodeId[];
  /**
   * A follower that hears nothing from a leader for a random number of ticks in
   * [electionTicks, 2 × electionTicks) campaigns. Must exceed `heartbeatTicks`.
   */
  readonly electionTicks: number;
  /** A leader sends heartbeats every `heartbeatTicks` ticks. */
  readonly heartbeatTicks: number;
  /** Run a pre-vote round before increasing the term (thesis §9.6): a partitioned node cannot disrupt the group. */
  readonly preVote: boolean;
  /**
   * A leader that has not heard from a quorum within `electionTicks` steps down, and a node that
   * heard from a leader within `electionTicks` ignores vote requests (thesis §6.2, §4.2.3).
   */
  readonly checkQuorum: boolean;
  /** The only source of randomness: it draws the randomized election timeouts. */
  readonly prng: Prng;
  /** Bound on the entries carried by one AppendEntries message. */
  readonly appendEntriesMax: number;
  /** Bound on AppendEntries messages in flight to one follower in the replicate state. */
  readonly inflightMessagesMax: number;
  /** Bound on the size of one proposal, in bytes (strings count UTF-16 code units × 2). */
  readonly entryBytesMax: number;
  /** Bound on entries the leader holds beyond its commit index; further proposals are refused. */
  readonly uncommittedEntriesMax: number;
  /** Bound on the committed entries handed to the application in one Ready. */
  readonly committedEntriesPerReadyMax: number;
}

const positiveInteger = (value: number): boolean => Number.isSafeInteger(value) && value > 0;

export function assertValidRaftConfig(config: RaftConfig): void {
  assert(config.id.length > 0, 'raft node id is empty');
  assert(new Set(config.voters).size === config.voters.length, 'raft voters contain duplicates');
  assert(positiveInteger(config.heartbeatTicks), 'heartbeatTicks must be a positive integer');
  assert(positiveInteger(config.electionTicks), 'electionTicks must be a positive integer');
  assert(config.electionTicks > config.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
  assert(positiveInteger(config.appendEntriesMax), 'appendEntriesMax must be a positive integer');
  assert(positiveInteger(config.inflightMessagesMax), 'inflightMessagesMax must be a positive integer');
  assert(positiveInteger(config.entryBytesMax), 'entryBytesMax must be a positive integer');
  assert(positiveInteger(config.uncommittedEntriesMax), 'uncommittedEntriesMax must be a positive integer');
  assert(positiveInteger(config.committedEntriesPerReadyMax), 'committedEntriesPerReadyMax must be a positive integer');
}
