import { inject, injectable } from 'inversify';
import { err, ok, Result } from '../../domain/shared/result';
import { StartPosition, StopPosition } from '../../domain/shared/wire-enums';
import { ApplicationError } from '../errors/application-errors';
import { MetadataService } from '../metadata/metadata-service';
import { GroupClaim, GroupConsumer } from '../partitions/group-subscribers';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { Metrics, PartitionMetrics } from '../ports/metrics.port';
import { LogClosedError, RecordDamagedError } from '../ports/partition-log.errors';
import { PartitionLog, RecordBatch } from '../ports/partition-log.port';
import { ValueEncryption, ValueOpener } from '../ports/value-encryption.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { StreamAdminHandler } from './stream-admin';

export { StartPosition, StopPosition };

export interface SubscribeQuery {
  readonly stream: string;
  readonly partition: number;
  readonly startPosition: number;
  readonly startOffset: number;
  readonly startTimestampNs: bigint;
  readonly stopPosition: number;
  readonly stopOffset: number;
  readonly stopTimestampNs: bigint;
  readonly readIsrReplica: boolean;
  readonly resume: boolean;
  /** '' = a plain subscription; else a consumer-group member (docs/consumers.md "Fencing"). */
  readonly consumerGroupId: string;
  readonly consumerGroupEpoch: bigint;
  readonly consumerId: string;
}

/** Where the records go; resolves when the transport can take more (backpressure). */
export interface SubscriptionSink {
  write(batch: RecordBatch): Promise<void> | void;
}

/** How a subscription ended (docs/protocol.md "Termination"). */
export type SubscriptionEnd =
  | { readonly kind: 'Cancelled' }
  | { readonly kind: 'StopOffsetReached' }
  | { readonly kind: 'ReadonlyEnd' }
  | { readonly kind: 'Deleted' }
  | { readonly kind: 'Paused' }
  | { readonly kind: 'Closed' }
  /** A subscriber of the same consumer group took this partition over (docs/consumers.md "Fencing"). */
  | { readonly kind: 'Replaced' }
  /** The record at `offset` is damaged here and no in-sync replica can restore it (docs/storage.md §4.1). */
  | { readonly kind: 'DataLoss'; readonly offset: number }
  /** The value at `offset` of an encrypted stream cannot be opened here (docs/encryption.md): this reader ends. */
  | { readonly kind: 'DecryptionFailed'; readonly offset: number; readonly reason: string };

/** How often a reader stopped at a damaged record looks again while it is being repaired. */
const REPAIR_POLL_MS = 200;

/** A validated subscription, ready to stream from `startOffset`. */
export interface OpenSubscription {
  readonly startOffset: number;
  /** Inclusive; null = until cancelled. */
  readonly stopOffset: number | null;
  /**
   * Streams until the end. A consumer-group subscription holds its partition from `open` until its
   * pump ends (docs/consumers.md "Fencing"), so every opened subscription must be pumped.
   */
  pump(sink: SubscriptionSink, signal: AbortSignal): Promise<SubscriptionEnd>;
}

/** Subscribe (docs/protocol.md "Subscribe"): validation in Liftbridge's order, then a committed read loop. */
@injectable()
export class SubscribeHandler {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
    @inject(StreamAdminHandler) private readonly admin: StreamAdminHandler,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.ValueEncryption) private readonly encryption: ValueEncryption,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  async open(query: SubscribeQuery): Promise<Result<OpenSubscription, ApplicationError>> {
    if (query.consumerGroupId !== '' && query.consumerId === '') return err({ kind: 'ConsumerIdMissing' });
    const stream = this.metadata.state.streams.get(query.stream);
    let partition = stream?.partitions[query.partition];
    if (!stream || !partition) return err({ kind: 'SubscribePartitionUnknown' });
    if (partition.leader !== this.settings.serverId) {
      if (!query.readIsrReplica) return err({ kind: 'NotPartitionLeader' });
      if (query.consumerGroupId !== '') return err({ kind: 'ConsumerGroupsNotCompatibleWithIsrReads' });
    }
    if (query.resume && partition.paused) {
      const resumed = await this.admin.resumeStream(query.stream, [query.partition]);
      if (!resumed.ok) return err({ kind: 'ResumeFailed', reason: resumed.error.kind });
      partition = this.metadata.state.streams.get(query.stream)?.partitions[query.partition];
      if (!partition) return err({ kind: 'SubscribePartitionUnknown' });
    }
    const ref = { stream: query.stream, partition: query.partition };
    const consumer = groupConsumer(query);
    if (consumer !== null && !this.partitions.groupSubscribers.admits(ref, consumer)) return err({ kind: 'ConsumerNotAssigned' });
    const runtime = this.partitions.get(ref);
    if (!runtime) {
      const failure = partition.paused ? undefined : this.partitions.notStarted({ stream: query.stream, partition: query.partition });
      if (failure) return err({ kind: 'PartitionNotStarted', stream: query.stream, partition: query.partition, code: failure.code, message: failure.message });
      // Paused (or not replicated here): the stream opens, then ends as Liftbridge's does.
      const end: SubscriptionEnd = partition.paused ? { kind: 'Paused' } : { kind: 'Closed' };
      return ok({ startOffset: 0, stopOffset: null, pump: async () => end });
    }
    const log = runtime.log;
    const start = this.startOffset(query, log);
    if (!start.ok) return start;
    const stop = this.stopOffset(query, log);
    if (!stop.ok) return stop;
    if (stop.value !== null && stop.value < start.value) return err({ kind: 'StopBeforeStart', stop: stop.value, start: start.value });
    const startOffset = start.value;
    const stopOffset = stop.value;
    const metrics = runtime.metrics;
    // Values of an encrypted stream are opened here, on the server that serves the reader.
    const opener = stream.config.encryption === true ? this.encryption.opener() : null;
    // No await between the fencing check above and this claim: no other subscriber can come between.
    const claim = consumer === null ? null : this.claim(ref, consumer);
    return ok({
      startOffset,
      stopOffset,
      pump: async (sink, signal) => {
        this.metrics.subscriptionOpened();
        this.partitions.subscriptions.opened(ref); // an auto-pause may spare partitions with subscribers
        try {
          const until = claim === null ? signal : AbortSignal.any([signal, claim.signal]);
          const out = claim === null ? sink : writingUntil(sink, claim.signal);
          const end = await this.pump(query, log, { startOffset, stopOffset, opener }, out, until, metrics);
          return claim?.replaced === true && !signal.aborted ? { kind: 'Replaced' } : end;
        } finally {
          claim?.release();
          this.partitions.subscriptions.closed(ref);
          this.metrics.subscriptionClosed();
        }
      },
    });
  }

  private startOffset(query: SubscribeQuery, log: PartitionLog): Result<number, ApplicationError> {
    let offset: number;
    switch (query.startPosition) {
      case StartPosition.OFFSET:
        offset = query.startOffset;
        break;
      case StartPosition.TIMESTAMP:
        offset = log.earliestOffsetAtOrAfter(query.startTimestampNs);
        break;
      case StartPosition.EARLIEST:
        offset = log.oldestOffset;
        break;
      case StartPosition.LATEST:
        offset = log.newestOffset;
        break;
      case StartPosition.NEW_ONLY:
        offset = log.newestOffset + 1;
        break;
      default:
        return err({ kind: 'UnknownStartPosition', value: query.startPosition });
    }
    return ok(Math.max(0, offset));
  }

  private stopOffset(query: SubscribeQuery, log: PartitionLog): Result<number | null, ApplicationError> {
    switch (query.stopPosition) {
      case StopPosition.STOP_ON_CANCEL:
        return ok(null); // a read-only log still ends at its end, with ReadonlyEnd (see pump)
      case StopPosition.STOP_OFFSET:
        return ok(query.stopOffset);
      case StopPosition.STOP_LATEST:
        return log.newestOffset < 0 ? err({ kind: 'StreamEmpty' }) : ok(log.newestOffset);
      case StopPosition.STOP_TIMESTAMP: {
        const offset = log.latestOffsetAtOrBefore(query.stopTimestampNs);
        return offset === null ? err({ kind: 'StopTimestampBeforeLog' }) : ok(offset);
      }
      default:
        return err({ kind: 'UnknownStopPosition', value: query.stopPosition });
    }
  }

  /** Streams committed records until the stop offset, cancellation, or the log goes away. */
  private async pump(
    query: SubscribeQuery,
    log: PartitionLog,
    range: { readonly startOffset: number; readonly stopOffset: number | null; readonly opener: ValueOpener | null },
    sink: SubscriptionSink,
    signal: AbortSignal,
    metrics: PartitionMetrics,
  ): Promise<SubscriptionEnd> {
    const { startOffset, stopOffset, opener } = range;
    const bytesMax = this.settings.subscribeReadBytesMax;
    let next = startOffset;
    // While one batch is being written to the client, the next one is read (catch-up reads then
    // keep the transport busy instead of alternating between disk and network).
    let prefetch: { from: number; limit: number; batch: Promise<RecordBatch | null> } | null = null;
    const read = (from: number, limit: number): Promise<RecordBatch | null> => {
      // A batch read ahead under an older (lower) limit is still committed data: use it.
      if (prefetch !== null && prefetch.from === from && prefetch.limit <= limit) {
        const ahead = prefetch.batch;
        prefetch = null;
        return ahead;
      }
      prefetch = null;
      return log.read(from, limit, bytesMax);
    };
    for (;;) {
      if (signal.aborted) return { kind: 'Cancelled' };
      if (log.closedReason !== null) return this.closedEnd(query, log);
      if (stopOffset !== null && next > stopOffset) return { kind: 'StopOffsetReached' };
      const hw = log.highWatermark;
      if (next < log.oldestOffset) next = log.oldestOffset; // retention moved past us: start at the oldest
      const limit = stopOffset === null ? hw : Math.min(hw, stopOffset);
      if (next <= limit) {
        let batch: RecordBatch | null;
        try {
          batch = await read(next, limit);
        } catch (error) {
          if (error instanceof LogClosedError) continue;
          if (!(error instanceof RecordDamagedError)) throw error;
          // A damaged record is never served: wait while an in-sync replica can restore it (a leader
          // hands over, which ends this stream with Closed; a follower repairs in place), else end.
          if (!this.partitions.repairable({ stream: query.stream, partition: query.partition })) return { kind: 'DataLoss', offset: error.offset };
          await this.pause(REPAIR_POLL_MS, signal);
          continue;
        }
        if (batch) {
          if (batch.lastOffset < limit) {
            const ahead = log.read(batch.lastOffset + 1, limit, bytesMax);
            ahead.catch(() => undefined); // a failure surfaces when the read is used
            prefetch = { from: batch.lastOffset + 1, limit, batch: ahead };
          }
          const opened = opener === null ? null : opener.open(batch);
          const deliver = opened === null ? batch : opened.opened;
          if (deliver !== null) {
            await sink.write(deliver);
            metrics.delivered(deliver.count, deliver.bytes.length, log.highWatermark - deliver.lastOffset);
            next = deliver.lastOffset + 1;
          }
          if (opened?.failure) return this.decryptionFailed(query, opened.failure.offset, opened.failure.reason);
          continue;
        }
      }
      if (log.isReadonly && next > log.newestOffset && hw === log.newestOffset) return { kind: 'ReadonlyEnd' };
      await log.waitForCommit(hw, signal);
      // A start beyond the end means "the next committed message" (docs/protocol.md "Delivery", TestSubscribeOffsetOverflow).
      if (next > hw + 1 && log.highWatermark > hw) next = hw + 1;
    }
  }

  private claim(ref: { stream: string; partition: number }, consumer: GroupConsumer): GroupClaim {
    const replaced = this.partitions.groupSubscribers.holder(ref, consumer.groupId);
    if (replaced) {
      this.logger.info({ ...ref, group: consumer.groupId, consumer: consumer.consumerId, epoch: String(consumer.groupEpoch), replaced: replaced.consumerId }, 'group subscriber replaced');
    }
    return this.partitions.groupSubscribers.claim(ref, consumer);
  }

  /** Only this reader ends: the partition, its other readers and its writers go on. */
  private decryptionFailed(query: SubscribeQuery, offset: number, reason: string): SubscriptionEnd {
    this.logger.warn({ stream: query.stream, partition: query.partition, offset, reason }, 'subscription ended: a value could not be decrypted');
    return { kind: 'DecryptionFailed', offset, reason };
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.scheduler.setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  private closedEnd(query: SubscribeQuery, log: PartitionLog): SubscriptionEnd {
    if (log.closedReason === 'deleted') return { kind: 'Deleted' };
    const partition = this.metadata.state.streams.get(query.stream)?.partitions[query.partition];
    if (!partition) return { kind: 'Deleted' };
    return partition.paused ? { kind: 'Paused' } : { kind: 'Closed' };
  }
}

function groupConsumer(query: SubscribeQuery): GroupConsumer | null {
  if (query.consumerGroupId === '') return null;
  return { groupId: query.consumerGroupId, groupEpoch: query.consumerGroupEpoch, consumerId: query.consumerId };
}

/** A replaced subscriber stops waiting for its client to take more (docs/consumers.md "Fencing"). */
function writingUntil(sink: SubscriptionSink, signal: AbortSignal): SubscriptionSink {
  return {
    write: (batch) => {
      const written = sink.write(batch);
      if (written === undefined) return;
      if (signal.aborted) {
        written.catch(() => undefined); // replaced: how the transport fares no longer matters
        return;
      }
      return new Promise<void>((resolve, reject) => {
        const stop = (): void => resolve();
        signal.addEventListener('abort', stop, { once: true });
        written.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
      });
    },
  };
}
