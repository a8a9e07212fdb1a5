import { PartitionLog, PartitionLogOptions, PartitionLogStore } from '../../../application/ports/partition-log.port';
import { assert } from '../../../domain/shared/assert';
import { PartitionRef, partitionKey } from '../../../domain/shared/ids';
import { InMemoryPartitionData, InMemoryPartitionLog } from './in-memory-partition-log';

/**
 * `PartitionLogStore` in memory. Partition data outlives `close`, so reopening a partition finds
 * its records, high watermark and epochs, as a restart finds them on disk.
 */
export class InMemoryPartitionLogStore implements PartitionLogStore {
  private readonly partitions = new Map<string, { ref: PartitionRef; data: InMemoryPartitionData }>();
  private readonly openLogs = new Map<string, InMemoryPartitionLog>();

  async open(ref: PartitionRef, options: PartitionLogOptions): Promise<PartitionLog> {
    const key = partitionKey(ref);
    assert(!this.openLogs.has(key), `partition log ${ref.stream}/${ref.partition} is already open`);
    let stored = this.partitions.get(key);
    if (stored === undefined) {
      stored = { ref: { stream: ref.stream, partition: ref.partition }, data: { segments: [], highWatermark: -1, epochs: [] } };
      this.partitions.set(key, stored);
    }
    const log = new InMemoryPartitionLog(stored.ref, options, stored.data, (closed) => {
      if (this.openLogs.get(key) === closed) this.openLogs.delete(key);
    });
    this.openLogs.set(key, log);
    return log;
  }

  async delete(ref: PartitionRef): Promise<void> {
    const key = partitionKey(ref);
    await this.openLogs.get(key)?.close('deleted');
    this.partitions.delete(key);
  }

  async deleteStream(stream: string): Promise<void> {
    for (const { ref } of [...this.partitions.values()]) if (ref.stream === stream) await this.delete(ref);
  }

  async list(): Promise<PartitionRef[]> {
    return [...this.partitions.values()].map((p) => p.ref);
  }
}
