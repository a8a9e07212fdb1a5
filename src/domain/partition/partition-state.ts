/** When an event first and last happened, in Unix ns (decimal strings: ns exceed 2^53); '0' = never. */
export interface EventTimestamps {
  readonly firstNs: string;
  readonly latestNs: string;
}

export const NEVER: EventTimestamps = { firstNs: '0', latestNs: '0' };

export const touch = (t: EventTimestamps, atNs: string): EventTimestamps => ({
  firstNs: t.firstNs === '0' ? atNs : t.firstNs,
  latestNs: atNs,
});

/** A partition as the metadata log records it (docs/protocol.md "Data model"). */
export interface PartitionState {
  readonly stream: string;
  readonly id: number;
  /** The stream's base subject; the partition listens on `partitionSubject(subject, id)`. */
  readonly subject: string;
  readonly group: string;
  readonly replicationFactor: number;
  readonly replicas: readonly string[];
  readonly isr: readonly string[];
  readonly leader: string;
  /** Metadata log index of the entry that installed the current leader. */
  readonly leaderEpoch: number;
  /** Metadata log index of the latest change to this partition. */
  readonly epoch: number;
  readonly paused: boolean;
  readonly readonly: boolean;
  readonly pauseTimestamps: EventTimestamps;
  readonly readonlyTimestamps: EventTimestamps;
}
