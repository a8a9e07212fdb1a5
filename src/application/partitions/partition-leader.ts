import { partitionSubject } from '../../domain/stream/stream-names';
import { Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { AckError, InboundMessage, Listener, MessageTransport } from '../ports/message-transport.port';
import { LogClosedError, LogReadonlyError } from '../ports/partition-log.errors';
import { PartitionLog } from '../ports/partition-log.port';
import { PartitionMetrics } from '../ports/metrics.port';
import { ReceivedTimestamps } from './partition-runtime';

export interface PartitionLeaderOptions {
  readonly stream: string;
  readonly partition: number;
  /** The stream's base subject (acks report it as partitionSubject). */
  readonly subject: string;
  readonly group: string;
  readonly leaderEpoch: number;
  readonly batchMaxMessages: number;
  readonly replicationMaxBytes: number;
  readonly concurrencyControl: boolean;
}

export interface PartitionLeaderDeps {
  readonly log: PartitionLog;
  readonly transport: MessageTransport;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly received: ReceivedTimestamps;
  readonly metrics: PartitionMetrics;
}

/**
 * The leader's ingest role (spec §5.4/5.5) for a partition replicated on this server alone:
 * everything that arrives on the partition subject in one event-loop turn becomes one append
 * (one write, and under the default policy one fsync shared with whatever else is in flight);
 * the high watermark moves and acks go out once the batch is durable. No per-message timers,
 * promises or awaits: the hot path is a push into an array.
 */
export class PartitionLeader {
  private queue: InboundMessage[] = [];
  private flushScheduled = false;
  private listener: Listener | null = null;
  private stopped = false;
  private readonly natsSubject: string;

  constructor(
    private readonly options: PartitionLeaderOptions,
    private readonly deps: PartitionLeaderDeps,
  ) {
    this.natsSubject = partitionSubject(options.subject, options.partition);
  }

  async start(): Promise<void> {
    // The leader owns its epoch in the log before it accepts anything (spec §5.2).
    this.deps.log.beginLeaderEpoch(this.options.leaderEpoch);
    // A single-replica partition commits whatever survived on disk (recovery cut any torn tail).
    if (this.deps.log.durableOffset > this.deps.log.highWatermark) this.deps.log.setHighWatermark(this.deps.log.durableOffset);
    this.listener = await this.deps.transport.listen(this.natsSubject, this.options.group, this.onMessage);
    if (this.stopped) await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.close();
  }

  private readonly onMessage = (message: InboundMessage): void => {
    this.queue.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.deps.scheduler.afterTurn(this.flush);
    }
  };

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const messages = this.queue;
    this.queue = [];
    if (this.stopped) return;
    const max = this.options.concurrencyControl ? messages.length : this.options.batchMaxMessages;
    for (let start = 0; start < messages.length; start += max) {
      this.appendBatch(start === 0 && messages.length <= max ? messages : messages.slice(start, start + max));
    }
  };

  private appendBatch(messages: InboundMessage[]): void {
    const { log, clock } = this.deps;
    const nowNs = clock.nowNs();
    this.deps.received.record(nowNs);
    if (log.closedReason !== null) return;
    if (log.isReadonly) {
      // Spec §2.5: plain NATS publishes to a read-only partition are dropped with an error log, no ack.
      this.deps.logger.error({ count: messages.length }, 'dropping messages published to a read-only partition');
      return;
    }
    const accepted = this.screen(messages, nowNs);
    if (accepted.length === 0) return;
    let pending;
    try {
      pending = log.append(accepted, nowNs, this.options.leaderEpoch);
    } catch (error) {
      this.logAppendFailure(error, accepted.length);
      return;
    }
    const firstOffset = pending.firstOffset;
    pending.durable.then(
      () => this.commit(accepted, firstOffset, pending.lastOffset, nowNs),
      (error: unknown) => this.logAppendFailure(error, accepted.length),
    );
  }

  /** Drops what must not be written (too large, wrong expected offset) with an error ack; keeps the rest. */
  private screen(messages: InboundMessage[], nowNs: bigint): InboundMessage[] {
    const { replicationMaxBytes, concurrencyControl } = this.options;
    let accepted: InboundMessage[] | null = null;
    let nextOffset = this.deps.log.newestOffset + 1;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      let rejection = AckError.Ok;
      if (m.sizeBytes > replicationMaxBytes) rejection = AckError.TooLarge;
      else if (concurrencyControl && m.expectedOffset !== -1 && m.expectedOffset !== nextOffset) rejection = AckError.IncorrectOffset;
      if (rejection === AckError.Ok) {
        nextOffset++;
        if (accepted) accepted.push(m);
        continue;
      }
      if (!accepted) accepted = messages.slice(0, i);
      this.sendAck(m, 0, nowNs, rejection === AckError.TooLarge ? 0n : this.deps.clock.nowNs(), rejection);
    }
    return accepted ?? messages;
  }

  private commit(messages: InboundMessage[], firstOffset: number, lastOffset: number, receptionNs: bigint): void {
    const { log } = this.deps;
    if (log.closedReason !== null) return;
    if (lastOffset > log.highWatermark) log.setHighWatermark(lastOffset);
    const commitNs = this.deps.clock.nowNs();
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) bytes += messages[i]!.sizeBytes;
    const seconds = Number(commitNs - receptionNs) / 1e9;
    this.deps.metrics.appended(messages.length, bytes, seconds);
    this.deps.metrics.acked(seconds);
    this.deps.transport.sendAcks({
      stream: this.options.stream,
      partitionSubject: this.options.subject,
      firstOffset,
      receptionTimestampNs: receptionNs,
      commitTimestampNs: commitNs,
      messages,
    });
  }

  private sendAck(m: InboundMessage, offset: number, receptionNs: bigint, commitNs: bigint, ackError: AckError): void {
    if (m.ackInbox === '') return;
    this.deps.transport.sendAck({
      stream: this.options.stream,
      partitionSubject: this.options.subject,
      msgSubject: m.subject,
      offset,
      ackInbox: m.ackInbox,
      correlationId: m.correlationId,
      ackPolicy: m.ackPolicy,
      receptionTimestampNs: receptionNs,
      commitTimestampNs: commitNs,
      ackError,
    });
  }

  private logAppendFailure(error: unknown, count: number): void {
    if (error instanceof LogClosedError) return; // paused or deleted meanwhile: nothing was acknowledged
    const level = error instanceof LogReadonlyError ? 'warn' : 'error';
    this.deps.logger[level]({ err: error, count, stream: this.options.stream, partition: this.options.partition }, 'append failed, messages not acknowledged');
  }
}
