import { partitionKey, PartitionRef } from '../../domain/shared/ids';

/**
 * The subscriptions this server is serving, per partition: an auto-pause set to spare partitions
 * with subscribers reads them (docs/consumers.md "Auto-pause").
 */
export class PartitionSubscriptions {
  private readonly counts = new Map<string, number>();

  opened(ref: PartitionRef): void {
    const key = partitionKey(ref);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  closed(ref: PartitionRef): void {
    const key = partitionKey(ref);
    const left = (this.counts.get(key) ?? 0) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  count(ref: PartitionRef): number {
    return this.counts.get(partitionKey(ref)) ?? 0;
  }
}
