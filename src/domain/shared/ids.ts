/** Identifies one partition of one stream. */
export interface PartitionRef {
  readonly stream: string;
  readonly partition: number;
}

export const partitionKey = (ref: PartitionRef): string => `${ref.stream}\u0000${ref.partition}`;
