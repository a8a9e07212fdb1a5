import { PartitionRef } from '../../domain/shared/ids';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { LogClosedError, StorageIoError } from '../ports/partition-log.errors';
import { PartitionLog } from '../ports/partition-log.port';
import { EpochEnd, ReplicationTransport, ReplicationUnavailableError } from '../ports/replication-transport.port';
import { FollowerRepair } from './follower-repair';

export interface PartitionFollowerOptions {
  readonly self: string;
  readonly ref: PartitionRef;
  /** The leader epoch this follower follows; replies of other epochs are ignored. */
  readonly leaderEpoch: number;
  readonly fetchTimeoutMs: number;
  /** Without an answer from the leader for this long, the follower reports it (docs/replication.md "Failover"). */
  readonly leaderTimeoutMs: number;
}

export interface PartitionFollowerDeps {
  readonly log: PartitionLog;
  readonly transport: ReplicationTransport;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Tells the controller that the leader has not answered for the leader timeout (`ReportLeader`);
   * false when held back because this server's own metadata contact is not confirmed (it may be the deaf one).
   */
  readonly reportLeader: () => Promise<boolean>;
  /** Whether the metadata has this replica in the partition's ISR now (damage repair, `FollowerRepair`). */
  readonly inIsr: () => boolean;
}

/** Pause after a failed fetch (leader not there yet, or gone): the controller is choosing another. */
const RETRY_DELAY_MS = 50;
/** How often a follower whose log failed to write checks whether it recovered (docs/storage.md). */
const STORAGE_RECHECK_MS = 250;
/** KIP-279 rounds: each one moves our last epoch back; a log has few epochs, so this bound is never reached in practice. */
const TRUNCATION_ROUNDS_MAX = 64;
/** Pause between repair attempts that could not get a good copy (the leader may be handing over). */
const REPAIR_RETRY_MS = 1000;
/** While the leader stays silent, a report at most this often (each keeps our witness valid on the controller). */
const LEADER_REPORT_INTERVAL_MS = 1000;
/** A report held back by our own unconfirmed metadata contact is tried again this soon (the contact is often back within ms). */
const HELD_REPORT_RETRY_MS = 100;

/**
 * The follower's side of partition replication (docs/replication.md "Truncation", "The protocol step by step"; Kafka KIP-101): first truncate
 * whatever the leader does not have (the end offset of our last leader epoch in the leader's log),
 * then fetch in a loop — each request reports our newest *durable* offset, so the leader counts a
 * record as replicated only once it is on our disk — append the leader's entries verbatim, and take
 * the leader's high watermark (never beyond what we hold). Records of its log found damaged are
 * repaired from the leader first (`FollowerRepair`). When our log fails to write (a full disk),
 * the follower waits until the log recovered by itself and starts over (it dropped what was not
 * durable); meanwhile the leader sees it fall behind. A leader that has not answered for
 * `leaderTimeoutMs` (dead, or deaf: a one-way cut still lets its heartbeats out) is reported to
 * the controller, which replaces it once most of the ISR did (docs/replication.md "Failover").
 */
export class PartitionFollower {
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  /** Resolves on stop, so a fetch held open by a dead leader does not delay the next role. */
  private readonly stopping: Promise<null>;
  private stopNow: () => void = () => undefined;
  private readonly repair: FollowerRepair;
  private repairDue = true;
  private lastAnswerMs: number;
  private lastReportMs = Number.NEGATIVE_INFINITY;
  private reporting = false;
  /** The last report was held back, not sent: the next one need not wait the report interval. */
  private reportHeldBack = false;
  /** Fires when the silence reaches the leader timeout, so the report does not wait for the next request to time out. */
  private silenceCheck: Cancellable | null = null;
  private lastFailureMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: PartitionFollowerOptions,
    private readonly deps: PartitionFollowerDeps,
  ) {
    this.stopping = new Promise((resolve) => (this.stopNow = () => resolve(null)));
    this.repair = new FollowerRepair(options, deps);
    this.lastAnswerMs = deps.clock.nowMs();
  }

  /** True while damaged records of this replica could not be repaired from the leader for a while. */
  get repairBlocked(): boolean {
    return this.repair.blocked;
  }

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      if (error instanceof LogClosedError) return;
      this.deps.logger.error({ err: error }, 'follower stopped replicating');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.silenceCheck?.cancel();
    this.silenceCheck = null;
    this.stopNow();
    await this.loop;
  }

  private async run(): Promise<void> {
    for (;;) {
      try {
        return await this.replicate();
      } catch (error) {
        if (!(error instanceof StorageIoError) || this.stopped) throw error;
        this.deps.logger.warn({ err: error, code: error.code }, 'follower log cannot write: waiting for it to recover');
        while (!this.stopped && this.deps.log.storageFailure !== null && this.deps.log.closedReason === null) await this.delay(STORAGE_RECHECK_MS);
        if (this.stopped || this.deps.log.closedReason !== null) return;
      }
    }
  }

  private async replicate(): Promise<void> {
    await this.truncateDivergentTail();
    const { log, transport } = this.deps;
    const { ref, self, leaderEpoch, fetchTimeoutMs } = this.options;
    while (!this.stopped) {
      if (log.damaged.length > 0 && this.repairDue && (await this.repairStalls())) continue;
      let reply;
      try {
        reply = await this.unlessStopped(transport.fetch(ref, { replicaId: self, offset: log.durableOffset, leaderEpoch }, fetchTimeoutMs));
      } catch (error) {
        if (!(error instanceof ReplicationUnavailableError)) throw error;
        this.noAnswer();
        await this.delay(RETRY_DELAY_MS);
        continue;
      }
      if (reply === null || this.stopped || log.closedReason !== null) return;
      this.lastAnswerMs = this.deps.clock.nowMs();
      if (reply.leaderEpoch !== leaderEpoch) {
        await this.delay(RETRY_DELAY_MS);
        continue;
      }
      const records = reply.records;
      if (records !== null && records.firstOffset === log.newestOffset + 1) {
        await log.appendReplicated(records);
      } else if (records !== null && records.firstOffset > log.newestOffset + 1) {
        this.deps.logger.warn({ firstOffset: records.firstOffset, newestOffset: log.newestOffset }, 'leader sent records past our end; fetching again');
      }
      const committed = Math.min(reply.highWatermark, log.durableOffset);
      if (committed > log.highWatermark) log.setHighWatermark(committed);
    }
  }

  /**
   * Kafka KIP-101 with KIP-279: find the latest epoch both logs have and cut where either log's copy
   * of it ends. Ask the leader for its largest epoch <= ours; if we have that epoch too, we agree up
   * to the smaller of its end in each log, and cut there. If we do not have it, ask again about our
   * largest epoch below it, and so on. Without an answer we keep asking and cut nothing: Go Liftbridge's
   * fallback (cut back to our high watermark) loses committed records whenever our high
   * watermark lags the leader's (found by the simulation; Kafka dropped it in KIP-101 for that reason).
   */
  private async truncateDivergentTail(): Promise<void> {
    const { log } = this.deps;
    let asked = log.lastLeaderEpoch;
    for (let round = 0; round < TRUNCATION_ROUNDS_MAX && !this.stopped; round++) {
      const answer = await this.askEpochEnd(asked);
      if (answer === null) return; // stopped
      const ours = log.leaderEpochAtOrBefore(answer.leaderEpoch);
      if (ours === answer.leaderEpoch) return this.truncateTo(Math.min(answer.endOffset, log.endOffsetForLeaderEpoch(ours)));
      // We never had the leader's epoch: our records from `ours` on may not be the leader's either.
      if (ours < 0) return this.truncateTo(log.endOffsetForLeaderEpoch(-1));
      asked = ours;
    }
  }

  /** The leader's answer for `epoch`, asked until there is one; null once stopped. */
  private async askEpochEnd(epoch: number): Promise<EpochEnd | null> {
    const request = { leaderEpoch: epoch, currentLeaderEpoch: this.options.leaderEpoch };
    while (!this.stopped) {
      try {
        const answer = await this.unlessStopped(this.deps.transport.leaderEpochEndOffset(this.options.ref, request, 1000));
        if (answer !== null) {
          this.lastAnswerMs = this.deps.clock.nowMs();
          return answer;
        }
      } catch (error) {
        if (!(error instanceof ReplicationUnavailableError)) throw error;
        this.noAnswer();
        await this.delay(RETRY_DELAY_MS);
      }
    }
    return null;
  }

  /** Cuts the log from `endOffset`, never below the high watermark. */
  private async truncateTo(endOffset: number): Promise<void> {
    const { log } = this.deps;
    let cutAt = endOffset;
    if (cutAt <= log.highWatermark) {
      // Committed records are on every ISR member, the leader included: never cut them.
      this.deps.logger.error({ endOffset, highWatermark: log.highWatermark }, 'leader reports an epoch end below our high watermark; keeping committed records');
      cutAt = log.highWatermark + 1;
    }
    if (cutAt <= log.newestOffset) {
      this.deps.logger.info({ cutAt, newestOffset: log.newestOffset, lastLeaderEpoch: log.lastLeaderEpoch }, 'truncating records the leader does not have');
      await log.truncateFrom(cutAt);
    }
  }

  /**
   * One repair attempt. True when the loop must not fetch now (this replica is leaving the ISR to
   * truncate); after a failed attempt the next waits REPAIR_RETRY_MS while fetching goes on.
   */
  private async repairStalls(): Promise<boolean> {
    const outcome = await this.repair.attempt();
    if (outcome === 'repaired' || outcome === 'none') return false;
    if (outcome === 'stall') {
      await this.delay(RETRY_DELAY_MS * 10);
      return true;
    }
    this.repairDue = false;
    this.deps.scheduler.setTimeout(() => (this.repairDue = true), REPAIR_RETRY_MS);
    return false;
  }

  /** After a request the leader did not answer: report it once it has been silent for the leader timeout. */
  private noAnswer(): void {
    const now = this.deps.clock.nowMs();
    this.lastFailureMs = now;
    const silentMs = now - this.lastAnswerMs;
    if (this.stopped) return;
    if (silentMs < this.options.leaderTimeoutMs) return this.checkSilenceAt(this.lastAnswerMs + this.options.leaderTimeoutMs - now);
    if (this.reporting) return;
    if (!this.reportHeldBack && now - this.lastReportMs < Math.min(LEADER_REPORT_INTERVAL_MS, this.options.leaderTimeoutMs / 2)) return;
    if (this.lastReportMs < this.lastAnswerMs) this.deps.logger.warn({ silentMs }, 'partition leader has not answered for the leader timeout: reporting it to the controller');
    this.lastReportMs = now;
    this.reporting = true;
    this.reportHeldBack = false;
    this.deps
      .reportLeader()
      .then((sent) => {
        if (sent) return;
        this.reportHeldBack = true;
        this.checkSilenceAt(HELD_REPORT_RETRY_MS);
      })
      .catch((error: unknown) => this.deps.logger.debug({ err: error }, 'leader report not delivered'))
      .finally(() => (this.reporting = false));
  }

  /**
   * Looks again when the silence that began at the last answer reaches the leader timeout: without
   * it the report waits for the first request to time out after that (up to a fetch timeout later).
   */
  private checkSilenceAt(inMs: number): void {
    if (this.silenceCheck) return;
    this.silenceCheck = this.deps.scheduler.setTimeout(() => {
      this.silenceCheck = null;
      // Only while requests are still failing: an answer since then ended that silence.
      if (this.lastFailureMs > this.lastAnswerMs) this.noAnswer();
    }, Math.max(0, inMs));
  }

  /** The request's answer, or null once stopped (the request itself finishes unobserved). */
  private unlessStopped<T>(request: Promise<T>): Promise<T | null> {
    request.catch(() => undefined);
    return Promise.race([request, this.stopping]);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.scheduler.setTimeout(resolve, ms));
  }
}
