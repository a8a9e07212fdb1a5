import { crc32 } from '@node-rs/crc32';

/** What a partitioner sees: the message's stream, key and value, and the partition count. */
export interface PartitionContext {
  readonly stream: string;
  readonly key: Buffer;
  readonly value: Buffer;
  readonly partitions: number;
}

/** Picks a partition in [0, partitions). */
export type Partitioner = (context: PartitionContext) => number;

/** CRC-32 (IEEE) of `bytes` (a string is taken as UTF-8), unsigned. */
export function crc32Ieee(bytes: Uint8Array | string): number {
  return crc32(bytes) >>> 0;
}

/**
 * go-liftbridge `PartitionByKey`: CRC-32 IEEE of the key (no key = empty), unsigned, modulo the
 * partition count, so a key lands on the same partition as with the Go client.
 */
export const byKey: Partitioner = ({ key, partitions }) => (partitions <= 0 ? 0 : crc32Ieee(key) % partitions);

/** go-liftbridge `PartitionByRoundRobin`: a per-stream counter modulo the partition count. */
export function roundRobin(): Partitioner {
  const counters = new Map<string, number>();
  return ({ stream, partitions }) => {
    const next = counters.get(stream) ?? 0;
    counters.set(stream, (next + 1) % 0x7fffffff);
    return partitions <= 0 ? 0 : next % partitions;
  };
}

/** Always the given partition. */
export function explicit(partition: number): Partitioner {
  return () => partition;
}
