import { inject, injectable } from 'inversify';
import { ReportLeader } from '../../domain/metadata/metadata-commands';
import { checkLeaderReport } from '../../domain/metadata/metadata-decide';
import { MetadataError } from '../../domain/metadata/metadata-errors';
import { MetadataEvent } from '../../domain/metadata/metadata-events';
import { partitionKey } from '../../domain/shared/ids';
import { ok, Result } from '../../domain/shared/result';
import { MetadataService } from '../metadata/metadata-service';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { LeaderWitnesses } from './leader-witnesses';

/** How often the controller looks for partitions led by unreachable brokers. */
const SCAN_INTERVAL_MS = 250;
/**
 * A partition that cannot get a new leader (no reachable in-sync replica) is tried again at every
 * scan; its lines are logged at most this often, with the attempts since the last line.
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
 */
@injectable()
export class PartitionFailover {
  private scanner: Cancellable | null = null;
  private readonly inFlight = new Set<string>();
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
    if (this.scanner) return;
    this.scanner = this.scheduler.setInterval(() => this.scan(), SCAN_INTERVAL_MS);
  }

  resignController(): void {
    this.scanner?.cancel();
    this.scanner = null;
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

  private scan(): void {
    const state = this.metadata.state;
    this.witnesses.prune((ref, leader, leaderEpoch) => {
      const p = state.streams.get(ref.stream)?.partitions[ref.partition];
      return p !== undefined && p.leader === leader && p.leaderEpoch === leaderEpoch;
    });
    const seen = new Set<string>();
    for (const stream of state.streams.values()) {
      for (const p of stream.partitions) {
        if (p.paused || state.brokers.get(p.leader)?.reachable !== false) continue;
        const key = partitionKey({ stream: p.stream, partition: p.id });
        seen.add(key);
        if (this.inFlight.has(key)) continue;
        this.inFlight.add(key);
        const attempts = this.attemptToLog(key);
        if (attempts > 0) this.logger.warn({ stream: p.stream, partition: p.id, failedLeader: p.leader, isr: p.isr, attempts }, 'partition leader unreachable, electing a new one');
        this.metadata
          .execute({ type: 'ChangePartitionLeader', data: { stream: p.stream, partition: p.id, failedLeader: p.leader } })
          .then((result) => {
            if (result.ok) this.attempts.delete(key);
            else if (attempts > 0) this.logger.error({ stream: p.stream, partition: p.id, error: result.error, attempts }, 'partition leader not replaced');
          })
          .catch((error: unknown) => this.logger.warn({ err: error, stream: p.stream, partition: p.id }, 'partition leader change failed; will retry'))
          .finally(() => this.inFlight.delete(key));
      }
    }
    for (const key of this.attempts.keys()) if (!seen.has(key)) this.attempts.delete(key);
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
