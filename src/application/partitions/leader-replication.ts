import { PartitionRef } from '../../domain/shared/ids';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { PartitionLog, RecordBatch } from '../ports/partition-log.port';
import { ReplicationFetch, ReplicationReply, ReplicationTransport } from '../ports/replication-transport.port';
import { entryBytesMax } from './record-limits';

export interface LeaderReplicationOptions {
  readonly self: string;
  readonly ref: PartitionRef;
  readonly leaderEpoch: number;
  readonly replicas: readonly string[];
  readonly isr: readonly string[];
  readonly minIsr: number;
  readonly maxLagTimeMs: number;
  readonly fetchWaitMs: number;
  /** `clustering.replication.max.bytes`: the largest reply, its 24-byte header included (as in Go). */
  readonly replyBytesMax: number;
}

export interface LeaderReplicationDeps {
  readonly log: PartitionLog;
  readonly transport: ReplicationTransport;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /**
   * Asks the controller to record an ISR change (docs/replication.md "ISR changes"); the new ISR arrives through `updateIsr`.
   * Resolves true when recorded (or already so), false when refused; rejects when the outcome is unknown.
   */
  readonly requestIsrChange: (type: 'ShrinkIsr' | 'ExpandIsr', replica: string) => Promise<boolean>;
  /** The high watermark moved to `offset`: acknowledge what it covers. */
  readonly onCommitted: (offset: number) => void;
}

/** At most one log line per this long about records too large to replicate. */
const UNREPLICABLE_LOG_INTERVAL_MS = 10_000;

interface Follower {
  /** Newest offset the follower reported durable (-1 before its first fetch in this epoch). */
  offset: number;
  lastSeenMs: number;
  lastCaughtUpMs: number;
  /** Our newest offset when its previous fetch arrived (Kafka's caught-up rule). */
  newestAtPreviousFetch: number;
}

/**
 * The leader's side of partition replication (docs/replication.md "The protocol step by step", "Commit rule and acknowledgements"; Kafka's ISR protocol): answers
 * followers' fetches (holding a caught-up follower's fetch open until new records arrive), tracks
 * the offset each follower has durably stored, moves the high watermark to the smallest of those
 * over the ISR (only while the ISR has at least minIsr members), and asks the controller to drop a
 * follower that stopped fetching or fell behind for `maxLagTimeMs`, and to re-add it once caught up.
 * The ISR used for commits is the one committed in the metadata (`updateIsr`): a shrink takes
 * effect only once it is recorded.
 */
export class LeaderReplication {
  private isr: ReadonlySet<string>;
  private readonly followers = new Map<string, Follower>();
  private readonly waiting = new Set<() => void>();
  private serving: Cancellable[] = [];
  private health: Cancellable | null = null;
  private pendingIsrChange = new Set<string>();
  /**
   * Followers whose addition to the ISR we requested and have not seen recorded or refused: they
   * count for commits at once (Kafka's "maximal ISR", KIP-497), because the controller may already
   * have recorded them — and could elect one — before `updateIsr` tells us.
   */
  private readonly expanding = new Set<string>();
  private stopped = false;
  private belowMinIsrLogged = false;
  private unreplicableReplies = 0;
  private unreplicableLoggedMs = Number.NEGATIVE_INFINITY;
  /** Where our epoch starts in the log: a follower rejoins the ISR only once it holds everything before it. */
  private epochStartOffset = Number.POSITIVE_INFINITY;

  constructor(
    private readonly options: LeaderReplicationOptions,
    private readonly deps: LeaderReplicationDeps,
  ) {
    this.isr = new Set(options.isr);
    const now = deps.clock.nowMs();
    for (const id of options.replicas) {
      if (id !== options.self) this.followers.set(id, { offset: -1, lastSeenMs: now, lastCaughtUpMs: now, newestAtPreviousFetch: -1 });
    }
  }

  async start(): Promise<void> {
    const { transport, log } = this.deps;
    this.serving.push(await transport.serveFetches(this.options.ref, (request) => this.onFetch(request)));
    // KIP-279: answer with our largest epoch <= the one asked for, and where it ends in our log.
    this.serving.push(
      await transport.serveLeaderEpochEndOffsets(this.options.ref, (request) => {
        // KIP-320: only followers of our epoch get an answer (a replaced leader still listening must not).
        if (this.stopped || request.currentLeaderEpoch !== this.options.leaderEpoch) return null;
        const leaderEpoch = log.leaderEpochAtOrBefore(request.leaderEpoch);
        return { leaderEpoch, endOffset: log.endOffsetForLeaderEpoch(leaderEpoch) };
      }),
    );
    this.epochStartOffset = log.endOffsetForLeaderEpoch(this.options.leaderEpoch - 1);
    this.health = this.deps.scheduler.setInterval(() => this.checkHealth(), Math.max(50, Math.floor(this.options.maxLagTimeMs / 4)));
    this.commitCheck();
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.serving.splice(0)) s.cancel();
    this.health?.cancel();
    this.health = null;
    this.wakeFetches();
  }

  /** The ISR as the metadata now records it. */
  updateIsr(isr: readonly string[]): void {
    this.isr = new Set(isr);
    for (const id of isr) this.expanding.delete(id);
    this.commitCheck();
  }

  /** New records are durable on the leader: commit what the ISR already has, wake waiting fetches. */
  localAppended(): void {
    this.commitCheck();
    this.wakeFetches();
  }

  private wakeFetches(): void {
    if (this.waiting.size === 0) return;
    const waiters = [...this.waiting];
    this.waiting.clear();
    for (const wake of waiters) wake();
  }

  private async onFetch(request: ReplicationFetch): Promise<ReplicationReply | null> {
    const follower = this.followers.get(request.replicaId);
    // docs/replication.md "The protocol step by step": not a follower of ours, or following another leader epoch: no answer.
    if (this.stopped || follower === undefined || request.leaderEpoch !== this.options.leaderEpoch) return null;
    const { log, clock } = this.deps;
    const now = clock.nowMs();
    follower.lastSeenMs = now;
    if (request.offset >= follower.newestAtPreviousFetch) follower.lastCaughtUpMs = now;
    follower.newestAtPreviousFetch = log.durableOffset;
    if (request.offset > follower.offset) {
      follower.offset = request.offset;
      this.commitCheck();
    }
    // Only durable records are served: a follower never holds what a crashed leader could lose,
    // so a leader restarting in the same epoch never contradicts its followers.
    if (request.offset >= log.durableOffset) {
      follower.lastCaughtUpMs = now;
      await this.waitForRecords(request.offset);
      if (this.stopped) return null;
    }
    const durable = log.durableOffset;
    // Sized per reply: the transport's limit (NATS max_payload) can change after a reconnect.
    const recordBytesMax = entryBytesMax(this.options.replyBytesMax, this.deps.transport.payloadBytesMax);
    const records = durable > request.offset ? await log.read(request.offset + 1, durable, recordBytesMax) : null;
    // `read` returns one whole entry even when it alone is larger: such a reply could not be sent.
    if (records !== null && records.bytes.length > recordBytesMax) return this.unreplicable(records, recordBytesMax);
    return { leaderEpoch: this.options.leaderEpoch, highWatermark: log.highWatermark, records };
  }

  /**
   * An entry larger than any reply can be (stored under a larger limit, or NATS max_payload shrank
   * after a reconnect): no answer, so the follower retries after its fetch timeout instead of
   * spinning, and leaves the ISR when it lags too long. Logged loudly, at most every 10 s.
   */
  private unreplicable(records: RecordBatch, recordBytesMax: number): null {
    const now = this.deps.clock.nowMs();
    this.unreplicableReplies++;
    if (now - this.unreplicableLoggedMs >= UNREPLICABLE_LOG_INTERVAL_MS) {
      this.unreplicableLoggedMs = now;
      this.deps.logger.error(
        { offset: records.firstOffset, entryBytes: records.bytes.length, recordBytesMax, payloadBytesMax: this.deps.transport.payloadBytesMax, total: this.unreplicableReplies },
        'a record is larger than a replication reply can carry: followers cannot copy it',
      );
    }
    return null;
  }

  /** Long poll: resolves when durable records exist past `offset`, or after `fetchWaitMs`. */
  private waitForRecords(offset: number): Promise<void> {
    if (this.deps.log.durableOffset > offset) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.cancel();
        this.waiting.delete(wake);
        resolve();
      };
      const timer = this.deps.scheduler.setTimeout(wake, this.options.fetchWaitMs);
      this.waiting.add(wake);
    });
  }

  /** docs/replication.md "Commit rule and acknowledgements": HW = min over the ISR (leader included) of durable offsets, if |ISR| >= minIsr. */
  private commitCheck(): void {
    if (this.stopped) return;
    const { log } = this.deps;
    if (log.closedReason !== null) return;
    if (this.isr.size < this.options.minIsr) {
      if (!this.belowMinIsrLogged) {
        this.belowMinIsrLogged = true;
        this.deps.logger.error({ isr: [...this.isr], minIsr: this.options.minIsr }, 'ISR below minIsr: nothing commits');
      }
      return;
    }
    this.belowMinIsrLogged = false;
    const committed = Math.min(log.durableOffset, this.lowestOffset(this.isr), this.lowestOffset(this.expanding));
    if (committed > log.highWatermark) {
      log.setHighWatermark(committed);
      this.deps.onCommitted(committed);
    }
  }

  /** The smallest durable offset reported by the followers among `ids` (the leader itself excluded). */
  private lowestOffset(ids: ReadonlySet<string>): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const id of ids) {
      if (id === this.options.self) continue;
      lowest = Math.min(lowest, this.followers.get(id)?.offset ?? -1);
    }
    return lowest;
  }

  /** docs/replication.md "The protocol step by step", ISR health: shrink a lagging ISR member, expand a caught-up outsider. */
  private checkHealth(): void {
    if (this.stopped) return;
    const now = this.deps.clock.nowMs();
    for (const [id, follower] of this.followers) {
      if (this.pendingIsrChange.has(id)) continue;
      const lagging = now - follower.lastSeenMs > this.options.maxLagTimeMs || now - follower.lastCaughtUpMs > this.options.maxLagTimeMs;
      const inIsr = this.isr.has(id);
      const mayBeInIsr = inIsr || this.expanding.has(id);
      // Re-adding needs the follower to hold everything committed, so that it can never lead without
      // it: our high watermark may lag the previous leader's, so also everything before our epoch
      // (Kafka KAFKA-7128: the follower reached the leader epoch's start offset).
      const caughtUp = !lagging && follower.offset >= this.deps.log.highWatermark && follower.offset + 1 >= this.epochStartOffset;
      if (mayBeInIsr && lagging) this.requestIsrChange('ShrinkIsr', id, follower, now);
      else if (!inIsr && caughtUp) this.requestIsrChange('ExpandIsr', id, follower, now);
    }
  }

  private requestIsrChange(type: 'ShrinkIsr' | 'ExpandIsr', id: string, follower: Follower, now: number): void {
    this.pendingIsrChange.add(id);
    if (type === 'ExpandIsr') this.expanding.add(id);
    this.deps.logger.warn({ replica: id, type, lastSeenMsAgo: now - follower.lastSeenMs, lastCaughtUpMsAgo: now - follower.lastCaughtUpMs }, 'changing the ISR');
    this.deps
      .requestIsrChange(type, id)
      .then((recorded) => {
        // A refused expansion, or a recorded shrink, settles that the follower is out.
        if (recorded === (type === 'ShrinkIsr')) this.expanding.delete(id);
      })
      // Outcome unknown: an expansion keeps counting (it may be recorded); the request is retried.
      .catch((error: unknown) => this.deps.logger.warn({ err: error, replica: id, type }, 'ISR change outcome unknown; will retry'))
      .finally(() => this.pendingIsrChange.delete(id));
  }
}
