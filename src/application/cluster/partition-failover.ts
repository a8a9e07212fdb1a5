import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import { ReportLeader } from '../../domain/metadata/metadata-commands';
import { checkLeaderReport } from '../../domain/metadata/metadata-decide';
import { MetadataError } from '../../domain/metadata/metadata-errors';
import { MetadataEvent } from '../../domain/metadata/metadata-events';
import { PartitionRef, partitionKey } from '../../domain/shared/ids';
import { ok, Result } from '../../domain/shared/result';
import { AppliedEntry, MetadataService } from '../metadata/metadata-service';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { LeaderWitnesses } from './leader-witnesses';

/** After an attempt that failed without an answer (a timeout, leadership moving), the next one comes this much later. */
const RETRY_DELAY_MS = 250;
/**
 * A partition that cannot get a new leader (no reachable in-sync replica) is tried again whenever
 * the metadata changes in a way that may help; its lines are logged at most this often, with the
 * attempts since the last line.
 */
export const FAILOVER_LOG_INTERVAL_MS = 10_000;

/**
 * Partition leader failover (docs/replication.md "Failover"), a controller duty. A partition gets a new leader
 * from its ISR (`ChangePartitionLeader`: never outside the ISR; the new leader epoch is the entry's
 * index) when
 * - its leader is on a broker the controller records as unreachable (`BrokerLiveness`: no
 *   heartbeats for `brokerTimeoutMs`, e.g. killed or stopped), or
 * - most of its in-sync followers report that the leader has not answered their fetches for
 *   `replica.max.leader.timeout` (`ReportLeader`): a leader that still sends heartbeats but hears
 *   nothing (a one-way cut, a half-open NATS link) is replaced too (docs/replication.md).
 * It reacts to applied metadata, never polls: a broker's reachability changing (or a snapshot)
 * looks at every partition; a partition's leader, ISR or pause changing looks at that partition.
 */
@injectable()
export class PartitionFailover {
  private subscription: Subscription | null = null;
  private readonly inFlight = new Set<string>();
  private readonly retries = new Map<string, Cancellable>();
  private readonly witnesses: LeaderWitnesses;
  /** Partitions whose leader is being replaced: when their last line was logged, and the attempts since. */
  private readonly attempts = new Map<string, { lastLineMs: number; sinceLine: number }>();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.ServerSettings) settings: ServerSettings,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    this.witnesses = new LeaderWitnesses(settings.replication.leaderTimeoutMs);
  }

  becomeController(): void {
    if (this.subscription) return;
    this.subscription = this.metadata.applied$.subscribe((entry) => this.onApplied(entry));
    // Brokers found unreachable before this server became the controller.
    this.checkAll();
  }

  resignController(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    for (const retry of this.retries.values()) retry.cancel();
    this.retries.clear();
    this.witnesses.clear();
    this.attempts.clear();
  }

  /**
   * A follower's report on the controller (forwarded or local): refused when it names another
   * leader generation or comes from outside the ISR; counted otherwise, and the leader is
   * replaced once enough of the ISR reported it. Answers with the events of the change, if any.
   */
  async report(command: ReportLeader): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const checked = checkLeaderReport(command, this.metadata.state);
    if (!checked.ok) return checked;
    const d = command.data;
    const ref = { stream: d.stream, partition: d.partition };
    const key = partitionKey(ref);
    if (!this.witnesses.record(ref, d, checked.value.isr.length, this.clock.nowMs()) || this.inFlight.has(key)) return ok([]);
    this.logger.warn(
      { stream: d.stream, partition: d.partition, failedLeader: d.leader, leaderEpoch: d.leaderEpoch, witnesses: this.witnesses.count(ref), isr: checked.value.isr },
      'in-sync followers report the partition leader silent, electing a new one',
    );
    this.inFlight.add(key);
    try {
      const result = await this.metadata.execute({ type: 'ChangePartitionLeader', data: { stream: d.stream, partition: d.partition, failedLeader: d.leader } });
      if (result.ok) this.witnesses.forget(ref);
      else this.logger.error({ stream: d.stream, partition: d.partition, error: result.error }, 'partition leader not replaced');
      return result;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private onApplied(entry: AppliedEntry): void {
    if (entry.kind === 'snapshot') return this.checkAll();
    if (entry.outcome.kind !== 'applied') return;
    const state = entry.state;
    this.witnesses.prune((ref, leader, leaderEpoch) => {
      const p = state.streams.get(ref.stream)?.partitions[ref.partition];
      return p !== undefined && p.leader === leader && p.leaderEpoch === leaderEpoch;
    });
    const touched: PartitionRef[] = [];
    for (const event of entry.outcome.events) {
      switch (event.type) {
        case 'BrokerRegistered':
        case 'BrokerReachabilityChanged':
          return this.checkAll();
        case 'PartitionLeaderChanged':
        case 'IsrExpanded':
        case 'IsrShrunk':
        case 'PartitionResumed':
          touched.push(event.data);
          break;
        case 'StreamDeleted':
          this.forgetStream(event.data.name);
          break;
        default:
          break;
      }
    }
    for (const ref of touched) this.check(ref);
  }

  private checkAll(): void {
    const state = this.metadata.state;
    for (const stream of state.streams.values()) for (const p of stream.partitions) this.check({ stream: p.stream, partition: p.id });
    // What is no longer led by an unreachable broker needs no more lines.
    for (const key of this.attempts.keys()) if (!this.inFlight.has(key) && !this.retries.has(key)) this.attempts.delete(key);
  }

  /** Asks for a new leader when the partition is led by an unreachable broker and not paused. */
  private check(ref: PartitionRef): void {
    const state = this.metadata.state;
    const p = state.streams.get(ref.stream)?.partitions[ref.partition];
    const key = partitionKey(ref);
    if (p === undefined || p.paused || state.brokers.get(p.leader)?.reachable !== false) {
      this.attempts.delete(key);
      return;
    }
    if (this.inFlight.has(key) || this.retries.has(key)) return;
    this.inFlight.add(key);
    const attempts = this.attemptToLog(key);
    if (attempts > 0) this.logger.warn({ stream: p.stream, partition: p.id, failedLeader: p.leader, isr: p.isr, attempts }, 'partition leader unreachable, electing a new one');
    const decidedAt = state.lastAppliedIndex;
    this.metadata
      .execute({ type: 'ChangePartitionLeader', data: { stream: p.stream, partition: p.id, failedLeader: p.leader } })
      .then((result) => {
        this.inFlight.delete(key);
        if (result.ok) return void this.attempts.delete(key);
        if (attempts > 0) this.logger.error({ stream: p.stream, partition: p.id, error: result.error, attempts }, 'partition leader not replaced');
        // Refused (no reachable in-sync replica): the next change to the metadata may help; one may already have come.
        if (this.subscription !== null && this.metadata.state.lastAppliedIndex !== decidedAt) this.check(ref);
      })
      .catch((error: unknown) => {
        this.inFlight.delete(key);
        this.logger.warn({ err: error, stream: p.stream, partition: p.id }, 'partition leader change failed; will retry');
        if (this.subscription !== null) this.retryLater(ref);
      });
  }

  private retryLater(ref: PartitionRef): void {
    const key = partitionKey(ref);
    this.retries.set(
      key,
      this.scheduler.setTimeout(() => {
        this.retries.delete(key);
        this.check(ref);
      }, RETRY_DELAY_MS),
    );
  }

  private forgetStream(name: string): void {
    for (const [key, retry] of this.retries) {
      if (!key.startsWith(`${name}\u0000`)) continue;
      retry.cancel();
      this.retries.delete(key);
    }
  }

  /** Counts an attempt for `key`; returns the attempts to report when a line is due now, else 0. */
  private attemptToLog(key: string): number {
    const now = this.clock.nowMs();
    const known = this.attempts.get(key);
    if (known === undefined) {
      this.attempts.set(key, { lastLineMs: now, sinceLine: 0 });
      return 1;
    }
    known.sinceLine++;
    if (now - known.lastLineMs < FAILOVER_LOG_INTERVAL_MS) return 0;
    const attempts = known.sinceLine;
    known.lastLineMs = now;
    known.sinceLine = 0;
    return attempts;
  }
}
