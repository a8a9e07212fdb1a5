import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConsumerGroupCounts, Metrics, PartitionMetrics, RefusalReason, StorageFailureCounts, StorageKind } from '../../../application/ports/metrics.port';

const REFUSAL_REASONS: readonly RefusalReason[] = ['too_large', 'incorrect_offset', 'append_failed', 'encryption'];
const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Prometheus metrics in a registry of this broker's own (no global state: several brokers can run
 * in one process). Per-partition series are created once when the partition starts, so recording
 * is a few additions per batch.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly messagesIn = new Counter({ name: 'liftbridge_messages_in_total', help: 'Records appended by partition leaders', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly bytesIn = new Counter({ name: 'liftbridge_bytes_in_total', help: 'Payload bytes appended by partition leaders', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly messagesRefused = new Counter({ name: 'liftbridge_messages_refused_total', help: 'Records a partition leader refused (each with an error ack when it had an AckInbox)', labelNames: ['stream', 'partition', 'reason'], registers: [this.registry] });
  private readonly replicationPublishFailures = new Counter({ name: 'liftbridge_replication_publish_failures_total', help: 'Replication replies or notifications the NATS client could not send', registers: [this.registry] });
  private readonly messagesOut = new Counter({ name: 'liftbridge_messages_out_total', help: 'Records sent to subscribers', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly bytesOut = new Counter({ name: 'liftbridge_bytes_out_total', help: 'Stored bytes sent to subscribers', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly lag = new Gauge({ name: 'liftbridge_subscription_lag_messages', help: 'Records between the last one sent to a subscriber and the high watermark (latest observation)', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly ackLatency = new Histogram({ name: 'liftbridge_publish_ack_latency_seconds', help: 'From receiving a batch to sending its acks (includes the durable write)', buckets: LATENCY_BUCKETS_SECONDS, registers: [this.registry] });
  private readonly durableWrite = new Histogram({ name: 'liftbridge_log_durable_write_seconds', help: 'From appending a batch to it being durable (write and fsync under the sync policy)', buckets: LATENCY_BUCKETS_SECONDS, registers: [this.registry] });
  private readonly damaged = new Gauge({ name: 'liftbridge_partition_damaged_records', help: 'Records this replica holds damaged on disk (not served until repaired from an in-sync replica)', labelNames: ['stream', 'partition'], registers: [this.registry] });
  private readonly subscriptions = new Gauge({ name: 'liftbridge_subscriptions', help: 'Open Subscribe calls', registers: [this.registry] });
  private readonly partitions = new Gauge({ name: 'liftbridge_partitions', help: 'Partitions running on this server', registers: [this.registry] });
  private readonly leaders = new Gauge({ name: 'liftbridge_partition_leaders', help: 'Partitions this server leads', registers: [this.registry] });
  private readonly notStarted = new Gauge({ name: 'liftbridge_partitions_not_started', help: 'Partitions this server should run and could not start (their log could not open...), retried with a back-off', registers: [this.registry] });
  private readonly startFailures = new Counter({ name: 'liftbridge_partition_start_failures_total', help: 'Failed attempts to start a partition, by error code', labelNames: ['code'], registers: [this.registry] });
  private readonly controllerGauge = new Gauge({ name: 'liftbridge_metadata_controller', help: '1 while this server is the controller (metadata Raft leader)', registers: [this.registry] });
  private readonly dropped = new Counter({ name: 'liftbridge_dropped_messages_total', help: 'Messages dropped: refused input (bad signature, malformed, misaddressed) or not sent', labelNames: ['kind', 'reason'], registers: [this.registry] });
  private readonly seedConflictGauge = new Gauge({ name: 'liftbridge_bootstrap_seed_conflict', help: '1 while another server announces itself as a bootstrap seed in this namespace', registers: [this.registry] });
  private readonly nats = new Gauge({ name: 'liftbridge_nats_connected', help: '1 while the NATS connection is up', labelNames: ['connection'], registers: [this.registry] });
  private readonly cursorWrites = new Counter({ name: 'liftbridge_cursor_writes_total', help: 'SetCursor writes led by this server, by result (ok, failed)', labelNames: ['result'], registers: [this.registry] });
  private readonly storageIoErrors = new Counter({ name: 'liftbridge_storage_io_errors_total', help: 'Failed writes or syncs to local storage, by store and error code', labelNames: ['store', 'code'], registers: [this.registry] });
  private readonly storageFailed = new Gauge({
    name: 'liftbridge_storage_failed',
    help: 'Storages failed now (partition logs refusing appends; 1 while metadata log saves fail), recovering by themselves',
    labelNames: ['store'],
    registers: [this.registry],
    collect: () => this.collectStorageFailures(),
  });
  private readStorageFailures: (() => StorageFailureCounts) | null = null;
  private readonly activityEvents = new Counter({ name: 'liftbridge_activity_events_published_total', help: 'Events this server published on __activity as the controller (acknowledged and recorded)', registers: [this.registry] });
  private readonly activityLagGauge: Gauge = new Gauge({
    name: 'liftbridge_activity_lag_events',
    help: 'Activity events applied here and not yet published on __activity (0 with the activity stream off)',
    registers: [this.registry],
    collect: (): void => this.activityLagGauge.set(this.readActivityLag?.() ?? 0),
  });
  private readActivityLag: (() => number) | null = null;
  private readonly groupsGauge = new Gauge({
    name: 'liftbridge_consumer_groups',
    help: 'Consumer groups in the metadata (scope=all) and those this server coordinates (scope=coordinated)',
    labelNames: ['scope'],
    registers: [this.registry],
    collect: () => {
      const counts = this.consumerGroupCounts();
      this.groupsGauge.labels({ scope: 'all' }).set(counts.groups);
      this.groupsGauge.labels({ scope: 'coordinated' }).set(counts.coordinated);
    },
  });
  private readonly groupMembersGauge: Gauge = new Gauge({
    name: 'liftbridge_consumer_group_members',
    help: 'Members of all consumer groups',
    registers: [this.registry],
    collect: (): void => this.groupMembersGauge.set(this.consumerGroupCounts().members),
  });
  private readonly groupAssignmentsGauge: Gauge = new Gauge({
    name: 'liftbridge_consumer_group_assigned_partitions',
    help: 'Partitions assigned to the members of the groups this server coordinates',
    registers: [this.registry],
    collect: (): void => this.groupAssignmentsGauge.set(this.consumerGroupCounts().assignedPartitions),
  });
  private readConsumerGroups: (() => ConsumerGroupCounts) | null = null;

  constructor(options: { processMetrics: boolean } = { processMetrics: true }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  partition(stream: string, partition: number): PartitionMetrics {
    const labels = { stream, partition: String(partition) };
    const messagesIn = this.messagesIn.labels(labels);
    const bytesIn = this.bytesIn.labels(labels);
    const messagesOut = this.messagesOut.labels(labels);
    const bytesOut = this.bytesOut.labels(labels);
    const lag = this.lag.labels(labels);
    const damaged = this.damaged.labels(labels);
    return {
      appended: (records, bytes, durableSeconds) => {
        messagesIn.inc(records);
        bytesIn.inc(bytes);
        this.durableWrite.observe(durableSeconds);
      },
      refused: (reason, records) => this.messagesRefused.labels({ ...labels, reason }).inc(records),
      acked: (seconds) => this.ackLatency.observe(seconds),
      delivered: (records, bytes, lagRecords) => {
        messagesOut.inc(records);
        bytesOut.inc(bytes);
        lag.set(lagRecords);
      },
      damagedRecords: (count) => damaged.set(count),
      release: () => {
        for (const metric of [this.messagesIn, this.bytesIn, this.messagesOut, this.bytesOut, this.lag, this.damaged]) metric.remove(labels);
        for (const reason of REFUSAL_REASONS) this.messagesRefused.remove({ ...labels, reason });
      },
    };
  }

  subscriptionOpened(): void {
    this.subscriptions.inc();
  }

  subscriptionClosed(): void {
    this.subscriptions.dec();
  }

  partitionsRunning(partitions: number, leaders: number): void {
    this.partitions.set(partitions);
    this.leaders.set(leaders);
  }

  partitionsNotStarted(partitions: number): void {
    this.notStarted.set(partitions);
  }

  partitionStartFailed(code: string): void {
    this.startFailures.labels({ code }).inc();
  }

  natsConnection(name: string, connected: boolean): void {
    this.nats.labels({ connection: name }).set(connected ? 1 : 0);
  }

  replicationPublishFailed(): void {
    this.replicationPublishFailures.inc();
  }

  controller(active: boolean): void {
    this.controllerGauge.set(active ? 1 : 0);
  }

  messageDropped(kind: string, reason: string): void {
    this.dropped.labels({ kind, reason }).inc();
  }

  seedConflict(active: boolean): void {
    this.seedConflictGauge.set(active ? 1 : 0);
  }

  cursorWritten(ok: boolean): void {
    this.cursorWrites.labels({ result: ok ? 'ok' : 'failed' }).inc();
  }

  storageIoError(store: StorageKind, code: string): void {
    this.storageIoErrors.labels({ store, code }).inc();
  }

  watchStorageFailures(read: () => StorageFailureCounts): void {
    this.readStorageFailures = read;
  }

  activityPublished(): void {
    this.activityEvents.inc();
  }

  watchActivityLag(read: () => number): void {
    this.readActivityLag = read;
  }

  watchConsumerGroups(read: () => ConsumerGroupCounts): void {
    this.readConsumerGroups = read;
  }

  private consumerGroupCounts(): ConsumerGroupCounts {
    return this.readConsumerGroups?.() ?? { groups: 0, members: 0, coordinated: 0, assignedPartitions: 0 };
  }

  private collectStorageFailures(): void {
    const counts = this.readStorageFailures?.() ?? { partitionLogs: 0, metadataLog: 0 };
    this.storageFailed.labels({ store: 'partition-log' }).set(counts.partitionLogs);
    this.storageFailed.labels({ store: 'metadata-log' }).set(counts.metadataLog);
  }
}
