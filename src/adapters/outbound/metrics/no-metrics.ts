import { Metrics, PartitionMetrics } from '../../../application/ports/metrics.port';

const NO_PARTITION_METRICS: PartitionMetrics = {
  appended: () => undefined,
  refused: () => undefined,
  acked: () => undefined,
  delivered: () => undefined,
  damagedRecords: () => undefined,
  release: () => undefined,
};

/** Metrics switched off (`metrics.enabled: false`), and the default in unit tests. */
export class NoMetrics implements Metrics {
  partition(): PartitionMetrics {
    return NO_PARTITION_METRICS;
  }
  subscriptionOpened(): void {}
  subscriptionClosed(): void {}
  partitionsRunning(): void {}
  partitionsNotStarted(): void {}
  partitionStartFailed(): void {}
  natsConnection(): void {}
  replicationPublishFailed(): void {}
  controller(): void {}
  messageDropped(): void {}
  seedConflict(): void {}
  cursorWritten(): void {}
  storageIoError(): void {}
  watchStorageFailures(): void {}
  activityPublished(): void {}
  watchActivityLag(): void {}
  watchConsumerGroups(): void {}
}
