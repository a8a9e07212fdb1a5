import { partitionSubject } from '../../domain/stream/stream-names';
import { Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { AckBatch, AckError, AckPolicy, InboundMessage, Listener, MessageTransport } from '../ports/message-transport.port';
import { LogClosedError, LogReadonlyError } from '../ports/partition-log.errors';
import { NewRecord, PartitionLog, PendingAppend } from '../ports/partition-log.port';
import { PartitionMetrics } from '../ports/metrics.port';
import { ReplicationTransport } from '../ports/replication-transport.port';
import { AckLease } from '../ports/ack-lease.port';
import { ValueSealer } from '../ports/value-encryption.port';
import { AutoPauseSettings, AutoPauseTimer } from './auto-pause';
import { LeaderReplication } from './leader-replication';
import { entryBytesMax } from './record-limits';
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
  /** Present when the partition has other replicas (docs/replication.md): they fetch from this leader. */
  readonly replicated?: {
    readonly self: string;
    readonly replicas: readonly string[];
    readonly isr: readonly string[];
    readonly minIsr: number;
    readonly maxLagTimeMs: number;
    readonly fetchWaitMs: number;
  };
  /** Present with an idle time above 0: the leader asks for a pause when idle (docs/consumers.md "Auto-pause"). */
  readonly autoPause?: AutoPauseSettings;
}

export interface PartitionLeaderDeps {
  readonly log: PartitionLog;
  readonly transport: MessageTransport;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly received: ReceivedTimestamps;
  readonly metrics: PartitionMetrics;
  /** Needed with `options.replicated`. */
  readonly replication?: ReplicationTransport;
  readonly requestIsrChange?: (type: 'ShrinkIsr' | 'ExpandIsr', replica: string) => Promise<boolean>;
  /** A replicated leader acknowledges only while it holds the lease (it may have been replaced while paused). */
  readonly ackLease?: AckLease;
  /** Present for an encrypted stream: values are sealed before they are appended (docs/encryption.md). */
  readonly sealer?: ValueSealer | null;
  /** Needed with `options.autoPause`. */
  readonly autoPause?: { readonly requestPause: () => Promise<boolean>; readonly activeSubscriptions: () => number };
  /** Told when an append failed on the log (a full disk): the health monitor looks at once rather than at its next pass. */
  readonly appendFailed?: () => void;
}

/** Acks of one append that wait for the commit (policy ALL on a replicated partition). */
interface PendingCommit {
  readonly messages: InboundMessage[];
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly receptionNs: bigint;
}

/**
 * The leader's ingest role (docs/replication.md "The protocol step by step", "Commit rule and acknowledgements"): everything that arrives on the partition subject in one
 * event-loop turn becomes one append (one write, and under the default policy one fsync shared with
 * whatever else is in flight). With a single replica the high watermark moves and acks go out once
 * the batch is durable. With followers (`LeaderReplication`), LEADER acks go out once the batch is
 * durable here and ALL acks once the high watermark (durable on every ISR member) covers it. No
 * per-message timers, promises or awaits: the hot path is a push into an array.
 */
export class PartitionLeader {
  private queue: InboundMessage[] = [];
  private flushScheduled = false;
  private listener: Listener | null = null;
  private stopped = false;
  private readonly natsSubject: string;
  private readonly replication: LeaderReplication | null = null;
  private pendingCommits: PendingCommit[] = [];
  private deferredAcks: AckBatch[] = [];
  private sealingFailureLogged = false;
  private readonly autoPause: AutoPauseTimer | null = null;

  constructor(
    private readonly options: PartitionLeaderOptions,
    private readonly deps: PartitionLeaderDeps,
  ) {
    this.natsSubject = partitionSubject(options.subject, options.partition);
    const r = options.replicated;
    if (r) {
      if (!deps.replication || !deps.requestIsrChange) throw new Error('a replicated partition leader needs a replication transport');
      this.replication = new LeaderReplication(
        {
          self: r.self,
          ref: { stream: options.stream, partition: options.partition },
          leaderEpoch: options.leaderEpoch,
          replicas: r.replicas,
          isr: r.isr,
          minIsr: r.minIsr,
          maxLagTimeMs: r.maxLagTimeMs,
          fetchWaitMs: r.fetchWaitMs,
          replyBytesMax: options.replicationMaxBytes,
        },
        {
          log: deps.log,
          transport: deps.replication,
          clock: deps.clock,
          scheduler: deps.scheduler,
          logger: deps.logger,
          requestIsrChange: deps.requestIsrChange,
          onCommitted: (offset) => this.onCommitted(offset),
        },
      );
    }
    if (options.autoPause && options.autoPause.idleMs > 0) {
      if (!deps.autoPause) throw new Error('an auto-pausing partition leader needs a way to request the pause');
      this.autoPause = new AutoPauseTimer(options.autoPause, { ...deps, ...deps.autoPause });
    }
  }

  /** The ISR as the metadata now records it (replicated partitions). */
  updateIsr(isr: readonly string[]): void {
    this.replication?.updateIsr(isr);
  }

  async start(): Promise<void> {
    // The leader owns its epoch in the log before it accepts anything (docs/replication.md "The protocol step by step").
    this.deps.log.beginLeaderEpoch(this.options.leaderEpoch);
    if (this.replication) {
      // Records above the high watermark commit once the ISR has them (followers truncate to our log).
      await this.replication.start();
    } else if (this.deps.log.durableOffset > this.deps.log.highWatermark) {
      // A single-replica partition commits whatever survived on disk (recovery cut any torn tail).
      this.deps.log.setHighWatermark(this.deps.log.durableOffset);
    }
    this.listener = await this.deps.transport.listen(this.natsSubject, this.options.group, this.onMessage);
    if (this.stopped) await this.stop();
    else this.autoPause?.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.autoPause?.stop();
    this.replication?.stop();
    this.pendingCommits = [];
    this.deferredAcks = [];
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
      // docs/protocol.md "SetStreamReadonly": plain NATS publishes to a read-only partition are dropped with an error log, no ack.
      this.deps.logger.error({ count: messages.length }, 'dropping messages published to a read-only partition');
      return;
    }
    const accepted = this.screen(messages, nowNs);
    if (accepted.length === 0) return;
    const records = this.sealed(accepted, nowNs);
    if (records === null) return;
    let pending: PendingAppend;
    try {
      pending = log.append(records, nowNs, this.options.leaderEpoch);
    } catch (error) {
      this.appendOneByOne(error, accepted, records, nowNs);
      return;
    }
    this.whenDurable(accepted, pending, nowNs);
  }

  /**
   * The records to append: the messages themselves, or for an encrypted stream copies with sealed
   * values (spec: sealing happens on the leader, before the append). When sealing fails nothing is
   * stored and every publisher gets the ENCRYPTION ack error; null then.
   */
  private sealed(messages: InboundMessage[], nowNs: bigint): readonly NewRecord[] | null {
    const sealer = this.deps.sealer;
    if (!sealer) return messages;
    try {
      return sealer.seal(messages);
    } catch (error) {
      this.deps.metrics.refused('encryption', messages.length);
      for (const m of messages) this.sendAck(m, 0, nowNs, 0n, AckError.ENCRYPTION);
      // Once per leader: a publisher must not turn a missing key into a flood of log lines (the metric counts them all).
      if (!this.sealingFailureLogged) {
        this.sealingFailureLogged = true;
        const where = { err: error, count: messages.length, stream: this.options.stream, partition: this.options.partition };
        this.deps.logger.error(where, 'values could not be sealed: ENCRYPTION acks sent (further failures are only counted)');
      }
      return null;
    }
  }

  private whenDurable(messages: InboundMessage[], pending: PendingAppend, receptionNs: bigint): void {
    const firstOffset = pending.firstOffset;
    pending.durable.then(
      () => this.commit(messages, firstOffset, pending.lastOffset, receptionNs),
      (error: unknown) => this.refuseFailed(error, messages, messages.length, receptionNs),
    );
  }

  /**
   * The append threw before writing anything (the port's contract): one record the log could not
   * take must fail only itself, so each record is tried alone, and those that still fail get an
   * error ack. The edges refuse such records first; this is the safety net, off the hot path.
   */
  private appendOneByOne(error: unknown, messages: InboundMessage[], records: readonly NewRecord[], nowNs: bigint): void {
    if (messages.length === 1 || error instanceof LogClosedError || error instanceof LogReadonlyError) {
      this.refuseFailed(error, messages, messages.length, nowNs);
      return;
    }
    const { log } = this.deps;
    const failed: InboundMessage[] = [];
    let lastError = error;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Offsets shift when a record fails: expected offsets are checked against the log again.
      if (this.options.concurrencyControl && m.expectedOffset !== -1 && m.expectedOffset !== log.newestOffset + 1) {
        this.deps.metrics.refused('incorrect_offset', 1);
        this.sendAck(m, 0, nowNs, this.deps.clock.nowNs(), AckError.INCORRECT_OFFSET);
        continue;
      }
      let pending: PendingAppend;
      try {
        pending = log.append([records[i]!], nowNs, this.options.leaderEpoch);
      } catch (oneError) {
        lastError = oneError;
        failed.push(m);
        continue;
      }
      this.whenDurable([m], pending, nowNs);
    }
    if (failed.length > 0) this.refuseFailed(lastError, failed, messages.length, nowNs);
  }

  /**
   * Records that were not stored, or whose write failed (I/O error, log offline): every one with an
   * AckInbox gets Ack.Error UNKNOWN (the protocol's only fitting code; the write may or may not have
   * reached the disk), so publishers are answered instead of waiting for a timeout.
   */
  private refuseFailed(error: unknown, messages: InboundMessage[], batchSize: number, receptionNs: bigint): void {
    const readonly = error instanceof LogReadonlyError;
    if (!readonly) {
      this.deps.appendFailed?.();
      this.deps.metrics.refused('append_failed', messages.length);
      for (const m of messages) this.sendAck(m, 0, receptionNs, 0n, AckError.UNKNOWN);
    }
    if (error instanceof LogClosedError) return; // paused, deleted or replaced meanwhile: an expected end
    this.deps.logger[readonly ? 'warn' : 'error'](
      { err: error, count: messages.length, batchSize, stream: this.options.stream, partition: this.options.partition },
      readonly ? 'append refused: partition is read-only' : 'append failed: error acks sent',
    );
  }

  /** Drops what must not be written (too large to replicate, wrong expected offset) with an error ack; keeps the rest. */
  private screen(messages: InboundMessage[], nowNs: bigint): InboundMessage[] {
    const { concurrencyControl } = this.options;
    // Once per batch: the transport's limit can change after a NATS reconnect (docs/replication.md "Message size").
    // A sealed value is larger than the one received by a fixed amount (docs/encryption.md).
    const sealing = this.deps.sealer?.overheadBytes ?? 0;
    const entryMax = entryBytesMax(this.options.replicationMaxBytes, this.deps.replication?.payloadBytesMax ?? Number.MAX_SAFE_INTEGER) - sealing;
    let accepted: InboundMessage[] | null = null;
    let nextOffset = this.deps.log.newestOffset + 1;
    let tooLarge = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      let rejection = AckError.OK;
      if (m.entryBytes > entryMax) rejection = AckError.TOO_LARGE;
      else if (concurrencyControl && m.expectedOffset !== -1 && m.expectedOffset !== nextOffset) rejection = AckError.INCORRECT_OFFSET;
      if (rejection === AckError.OK) {
        nextOffset++;
        if (accepted) accepted.push(m);
        continue;
      }
      if (!accepted) accepted = messages.slice(0, i);
      if (rejection === AckError.TOO_LARGE) tooLarge++;
      this.sendAck(m, 0, nowNs, rejection === AckError.TOO_LARGE ? 0n : this.deps.clock.nowNs(), rejection);
    }
    if (accepted === null) return messages;
    const wrongOffset = messages.length - accepted.length - tooLarge;
    if (tooLarge > 0) this.deps.metrics.refused('too_large', tooLarge);
    if (wrongOffset > 0) this.deps.metrics.refused('incorrect_offset', wrongOffset);
    return accepted;
  }

  private commit(messages: InboundMessage[], firstOffset: number, lastOffset: number, receptionNs: bigint): void {
    const { log } = this.deps;
    if (log.closedReason !== null) return;
    if (this.replication) {
      this.replicatedDurable(messages, firstOffset, lastOffset, receptionNs);
      return;
    }
    if (lastOffset > log.highWatermark) log.setHighWatermark(lastOffset);
    const commitNs = this.deps.clock.nowNs();
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) bytes += messages[i]!.entryBytes;
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

  /** Durable here: LEADER acks now; ALL acks wait for the high watermark (docs/replication.md "Commit rule and acknowledgements"). */
  private replicatedDurable(messages: InboundMessage[], firstOffset: number, lastOffset: number, receptionNs: bigint): void {
    const nowNs = this.deps.clock.nowNs();
    let bytes = 0;
    let waitsForCommit = false;
    for (let i = 0; i < messages.length; i++) {
      bytes += messages[i]!.entryBytes;
      if (messages[i]!.ackPolicy === AckPolicy.ALL) waitsForCommit = true;
    }
    this.deps.metrics.appended(messages.length, bytes, Number(nowNs - receptionNs) / 1e9);
    if (waitsForCommit) this.pendingCommits.push({ messages, firstOffset, lastOffset, receptionNs });
    this.sendAcksLeased({
      stream: this.options.stream,
      partitionSubject: this.options.subject,
      firstOffset,
      receptionTimestampNs: receptionNs,
      commitTimestampNs: nowNs,
      messages,
      onlyPolicy: AckPolicy.LEADER,
    });
    this.replication!.localAppended();
  }

  /** The high watermark reached `offset`: ALL acks for every batch it covers. */
  private onCommitted(offset: number): void {
    let covered = 0;
    while (covered < this.pendingCommits.length && this.pendingCommits[covered]!.lastOffset <= offset) covered++;
    if (covered === 0) return;
    const done = this.pendingCommits.splice(0, covered);
    const commitNs = this.deps.clock.nowNs();
    for (const batch of done) {
      this.deps.metrics.acked(Number(commitNs - batch.receptionNs) / 1e9);
      this.sendAcksLeased({
        stream: this.options.stream,
        partitionSubject: this.options.subject,
        firstOffset: batch.firstOffset,
        receptionTimestampNs: batch.receptionNs,
        commitTimestampNs: commitNs,
        messages: batch.messages,
        onlyPolicy: AckPolicy.ALL,
      });
    }
  }

  /**
   * Sends acks while the lease holds; otherwise keeps them (in order) until it holds again — a
   * replaced leader is stopped first, and what it kept is dropped unsent.
   */
  private sendAcksLeased(batch: AckBatch): void {
    const lease = this.deps.ackLease;
    if (this.deferredAcks.length === 0 && (lease === undefined || lease.holds())) {
      this.deps.transport.sendAcks(batch);
      return;
    }
    this.deferredAcks.push(batch);
    if (this.deferredAcks.length === 1 && lease !== undefined) {
      this.deps.logger.warn({ stream: this.options.stream, partition: this.options.partition }, 'metadata contact not confirmed: holding acknowledgements');
      void lease.whenHeld().then(() => this.flushDeferredAcks());
    }
  }

  private flushDeferredAcks(): void {
    if (this.stopped) {
      this.deferredAcks = [];
      return;
    }
    const lease = this.deps.ackLease;
    if (lease !== undefined && !lease.holds()) {
      void lease.whenHeld().then(() => this.flushDeferredAcks());
      return;
    }
    const batches = this.deferredAcks;
    this.deferredAcks = [];
    for (const batch of batches) this.deps.transport.sendAcks(batch);
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
}
