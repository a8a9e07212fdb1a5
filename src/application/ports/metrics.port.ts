/** Why a leader refused records: too large to replicate, wrong expected offset, or the append failed. */
export type RefusalReason = 'too_large' | 'incorrect_offset' | 'append_failed' | 'encryption';

/**
 * What the server measures (docs/operability.md "Metrics"). Called once per batch, never per message, so
 * the publish and subscribe paths stay cheap. The production adapter is Prometheus; tests and the
 * simulator use the no-op one.
 */
export interface PartitionMetrics {
  /** A leader batch became durable: records and payload bytes in, append-to-durable time. */
  appended(records: number, bytes: number, durableSeconds: number): void;
  /** The leader refused `records` records of one batch (each with an error ack when it had an AckInbox). */
  refused(reason: RefusalReason, records: number): void;
  /** Acks were sent for a batch received `seconds` before. */
  acked(seconds: number): void;
  /** Records sent to one subscriber, and how far that subscriber is behind the high watermark. */
  delivered(records: number, bytes: number, lagRecords: number): void;
  /** Records this replica holds damaged (not served until repaired), now; 0 when sound. */
  damagedRecords(count: number): void;
  /** The partition stopped running here: its series go away. */
  release(): void;
}

/** Which local storage an I/O error or failure is about. */
export type StorageKind = 'partition-log' | 'metadata-log';

/** Storages failed now (they refuse writes until they recovered by themselves). */
export interface StorageFailureCounts {
  readonly partitionLogs: number;
  /** 1 while the metadata log's saves fail, else 0. */
  readonly metadataLog: number;
}

export interface Metrics {
  partition(stream: string, partition: number): PartitionMetrics;
  subscriptionOpened(): void;
  subscriptionClosed(): void;
  /** Partitions running on this server, and how many of them it leads. */
  partitionsRunning(partitions: number, leaders: number): void;
  /** Partitions this server should run and could not start (retried), now. */
  partitionsNotStarted(partitions: number): void;
  /** An attempt to start a partition failed; `code` is the system's (EMFILE, ENOSPC...) or the error's name. */
  partitionStartFailed(code: string): void;
  natsConnection(name: string, connected: boolean): void;
  /** A replication reply or notification the transport could not send (closed connection, payload too large). */
  replicationPublishFailed(): void;
  /** Whether this server is the controller (the metadata Raft leader) now. */
  controller(active: boolean): void;
  /** A message was dropped (refused input or not sent); `kind` and `reason` are fixed words. */
  messageDropped(kind: string, reason: string): void;
  /** Whether another server announces itself as a bootstrap seed in our namespace (docs/cluster.md). */
  seedConflict(active: boolean): void;
  /** A write or sync to local storage failed; `code` is the system's (ENOSPC, EIO...). */
  storageIoError(store: StorageKind, code: string): void;
  /** A SetCursor write finished: acknowledged (`ok`) or failed (docs/consumers.md "Cursors"). */
  cursorWritten(ok: boolean): void;
  /** Where the failed-storage gauges come from (read when metrics are collected). */
  watchStorageFailures(read: () => StorageFailureCounts): void;
  /** The controller published one event on `__activity` (docs/consumers.md "Activity stream"). */
  activityPublished(): void;
  /** Where the activity lag gauge comes from: events applied here and not yet published (read when metrics are collected). */
  watchActivityLag(read: () => number): void;
  /** Where the consumer-group gauges come from (read when metrics are collected; docs/consumers.md "Consumer groups"). */
  watchConsumerGroups(read: () => ConsumerGroupCounts): void;
}

export interface ConsumerGroupCounts {
  /** Groups in the metadata, and their members. */
  readonly groups: number;
  readonly members: number;
  /** Groups this server coordinates, and the partitions assigned to their members. */
  readonly coordinated: number;
  readonly assignedPartitions: number;
}
