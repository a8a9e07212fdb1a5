import { MetadataEvent } from './metadata-events';

/**
 * What a decision read, so that applying it later can tell whether the world moved in between
 * (Emmett's expected versions). `version` is the aggregate's version, or 'absent'.
 */
export interface Expectation {
  readonly aggregate: string;
  readonly version: number | 'absent';
}

export interface Decision {
  readonly events: readonly MetadataEvent[];
  readonly expectations: readonly Expectation[];
}

/** The payload of one metadata log entry. */
export interface MetadataProposal extends Decision {
  /** Unique per proposer, so the proposer can recognise its own entry when it is applied. */
  readonly proposalId: string;
}

export const streamAggregate = (name: string): string => `stream:${name}`;
export const brokerAggregate = (id: string): string => `broker:${id}`;
