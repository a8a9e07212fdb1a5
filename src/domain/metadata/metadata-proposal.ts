import { MetadataEvent } from './metadata-events';

/**
 * What an expectation is about: one aggregate of the metadata (docs/architecture.md "Aggregates").
 * A `Stream` (its own fields: creation, resumeAll), one `Partition` of a stream (leader, ISR, flags)
 * one broker of the `Cluster` and one `ConsumerGroup` each have their own version, so that unrelated changes never
 * conflict: pausing partition 3 does not re-decide an ISR change on partition 0.
 */
export type AggregateRef =
  | { readonly kind: 'stream'; readonly stream: string }
  | { readonly kind: 'partition'; readonly stream: string; readonly partition: number }
  | { readonly kind: 'broker'; readonly broker: string }
  /** One consumer group; its version is its epoch (docs/consumers.md "Epochs"). */
  | { readonly kind: 'group'; readonly group: string }
  /**
   * Read from entries of metadata schema 1 only, never decided any more (docs/storage.md "Metadata
   * schema"): `"stream:<name>"` was the stream's version counting every change to any of its
   * partitions, `"broker:<id>"` was 0 while the broker existed. Replaying them by those rules keeps
   * the outcome every server computed when they were first applied.
   */
  | { readonly kind: 'stream-v1'; readonly stream: string }
  | { readonly kind: 'broker-v1'; readonly broker: string };

/**
 * What a decision read, so that applying it later can tell whether the world moved in between
 * (Emmett's expected versions). `version` is the aggregate's version, or 'absent'.
 */
export interface Expectation {
  readonly aggregate: AggregateRef;
  readonly version: number | 'absent';
}

export interface Decision {
  readonly events: readonly MetadataEvent[];
  readonly expectations: readonly Expectation[];
}

/** The payload of one metadata log entry. */
export interface MetadataProposal extends Decision {
  /** Unique per proposer and run (`<serverId>:<bootId>:<n>`), so the proposer recognises its own entry. */
  readonly proposalId: string;
}

export const streamRef = (stream: string): AggregateRef => ({ kind: 'stream', stream });
export const partitionRef = (stream: string, partition: number): AggregateRef => ({ kind: 'partition', stream, partition });
export const groupRef = (group: string): AggregateRef => ({ kind: 'group', group });
export const brokerRef = (broker: string): AggregateRef => ({ kind: 'broker', broker });

export const noDecision: Decision = { events: [], expectations: [] };
