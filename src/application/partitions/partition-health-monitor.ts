import { PartitionState } from '../../domain/partition/partition-state';
import { partitionKey, PartitionRef } from '../../domain/shared/ids';
import { Cancellable, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { PartitionMetrics } from '../ports/metrics.port';
import { OffsetRange, PartitionLog } from '../ports/partition-log.port';
import { repairSourceFor } from './damage-repair-policy';

/** How often damaged records are looked for (the logs list them; this only reads the lists). */
const CHECK_INTERVAL_MS = 1000;
/** Checks to wait before asking again for a leadership change the controller refused. */
const REFUSED_RETRY_CHECKS = 10;

/** What the monitor needs of a partition running here. */
export interface MonitoredPartition {
  readonly state: PartitionState;
  readonly log: PartitionLog;
  readonly isLeader: boolean;
  readonly metrics: PartitionMetrics;
  /** A follower that could not repair from its leader for a while. */
  readonly followerRepairBlocked: boolean;
}

/** One partition with damaged records on this server (GET /partitions/damaged, docs/operability.md). */
export interface DamagedPartitionReport {
  readonly stream: string;
  readonly partition: number;
  readonly role: 'leader' | 'follower';
  readonly damaged: readonly OffsetRange[];
  readonly records: number;
  /**
   * `repairing-from-leader` (a follower), `handing-over-leadership` (a leader: an in-sync replica
   * takes over and this server then repairs as a follower), `unrepairable` (no replica to repair
   * from: kept on disk, never served, readers get DATA_LOSS).
   */
  readonly repair: 'repairing-from-leader' | 'handing-over-leadership' | 'unrepairable';
}

export interface PartitionHealthMonitorDeps {
  readonly self: string;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly partitions: () => Iterable<MonitoredPartition>;
  /** Asks the controller to give the partition's leadership to another in-sync replica; false when refused. */
  readonly handOverLeadership: (state: PartitionState) => Promise<boolean>;
}

/**
 * Watches the health of the partitions running here, and makes a leader that cannot serve well
 * stop leading when an in-sync replica can take over (it asks the controller to hand the
 * leadership to one: every ISR member holds every committed record):
 * - damaged records (docs/replication.md "Damaged records"): keeps the
 *   `liftbridge_partition_damaged_records` gauge and one log line per change; after the hand-over
 *   this server repairs from the new leader as a follower (`FollowerRepair`), leaving the ISR
 *   meanwhile;
 * - a log that cannot write (a full disk: `PartitionLog.storageFailure`, docs/storage.md): the
 *   partition would refuse every publish until the disk has room again, while another replica can
 *   take them at once (Kafka moves the leaders of a failed log directory the same way); the log
 *   recovers by itself and this server then catches up as a follower.
 * Without an in-sync peer (replication factor 1, or an ISR of one) it is only reported.
 */
export class PartitionHealthMonitor {
  private timer: Cancellable | null = null;
  private soon: Cancellable | null = null;
  /** The damaged list last reported per partition (the logs give a new array when it changes). */
  private readonly reported = new Map<string, readonly OffsetRange[]>();
  private readonly handingOver = new Set<string>();
  /** Partitions whose hand-over the controller refused, with the checks left before asking again. */
  private readonly refused = new Map<string, number>();

  constructor(private readonly deps: PartitionHealthMonitorDeps) {}

  start(): void {
    this.timer ??= this.deps.scheduler.setInterval(() => this.check(), CHECK_INTERVAL_MS);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.soon?.cancel();
    this.soon = null;
  }

  /** A pass right after this turn (once, however many ask): a leader whose log just failed need not wait for the next interval. */
  checkSoon(): void {
    if (this.soon !== null || this.timer === null) return;
    this.soon = this.deps.scheduler.setTimeout(() => {
      this.soon = null;
      this.check(false);
    }, 0);
  }

  /** Whether readers reaching a damaged record of this partition should wait for its repair. */
  repairable(p: MonitoredPartition): boolean {
    const source = repairSourceFor(p.state, this.deps.self);
    if (source === null) return false;
    if (source === 'leader') return !p.followerRepairBlocked;
    // An in-sync peer exists: readers wait rather than end with DATA_LOSS, while a refused hand-over
    // is asked again (the controller may not yet see the peer alive, e.g. just after a restart), and
    // in the role-less moment after the hand-over, until the applied change restarts this replica
    // as a follower (which ends their streams; they follow the new leader).
    return true;
  }

  report(): DamagedPartitionReport[] {
    const out: DamagedPartitionReport[] = [];
    for (const p of this.deps.partitions()) {
      const damaged = p.log.closedReason === null ? p.log.damaged : [];
      if (damaged.length === 0) continue;
      const source = repairSourceFor(p.state, this.deps.self);
      const repair = !this.repairable(p) ? 'unrepairable' : source === 'isr-peer' ? 'handing-over-leadership' : 'repairing-from-leader';
      out.push({ stream: p.state.stream, partition: p.state.id, role: p.isLeader ? 'leader' : 'follower', damaged, records: countOf(damaged), repair });
    }
    return out;
  }

  /**
   * One pass over the running partitions; public so that a start can run it at once. Only the
   * interval's passes count down the wait after a refused hand-over (`checkSoon` may run often).
   */
  check(interval = true): void {
    const seen = new Set<string>();
    for (const p of this.deps.partitions()) {
      const k = key(p.state);
      seen.add(k);
      if (p.log.closedReason !== null) continue;
      const damaged = p.log.damaged;
      if (this.reported.get(k) !== damaged) this.reportChange(p, k, damaged);
      if (!p.isLeader) continue;
      if (damaged.length > 0) this.handOverIfPossible(p, k, 'damaged', interval);
      else if (p.log.storageFailure !== null) this.handOverIfPossible(p, k, 'storage-failed', interval);
    }
    for (const k of [...this.reported.keys()]) if (!seen.has(k)) this.reported.delete(k);
    for (const k of [...this.refused.keys()]) if (!seen.has(k)) this.refused.delete(k);
  }

  private reportChange(p: MonitoredPartition, k: string, damaged: readonly OffsetRange[]): void {
    const before = this.reported.get(k);
    this.reported.set(k, damaged);
    const records = countOf(damaged);
    p.metrics.damagedRecords(records);
    if (records === 0 && before === undefined) return;
    const fields = { stream: p.state.stream, partition: p.state.id, damaged, records, leader: p.isLeader, source: repairSourceFor(p.state, this.deps.self) };
    if (records === 0) this.deps.logger.info(fields, 'partition has no damaged records any more');
    else this.deps.logger.error(fields, 'partition holds damaged records: they are not served until repaired');
  }

  private handOverIfPossible(p: MonitoredPartition, k: string, why: 'damaged' | 'storage-failed', interval: boolean): void {
    if (this.handingOver.has(k) || repairSourceFor(p.state, this.deps.self) !== 'isr-peer') return;
    const wait = this.refused.get(k);
    if (wait !== undefined && wait > 0) {
      if (interval) this.refused.set(k, wait - 1);
      return;
    }
    this.handingOver.add(k);
    const fields =
      why === 'damaged'
        ? { stream: p.state.stream, partition: p.state.id, isr: p.state.isr, damaged: p.log.damaged }
        : { stream: p.state.stream, partition: p.state.id, isr: p.state.isr, code: p.log.storageFailure?.code };
    const handingOver =
      why === 'damaged'
        ? 'partition leader holds damaged records: handing the leadership to an in-sync replica, then repairing from it'
        : 'partition leader cannot write its log: handing the leadership to an in-sync replica until the log recovered';
    this.deps.logger.warn(fields, handingOver);
    this.deps
      .handOverLeadership(p.state)
      .then((done) => {
        if (done) this.refused.delete(k);
        else {
          this.refused.set(k, REFUSED_RETRY_CHECKS);
          const kept = why === 'damaged' ? 'damaged records stay unrepaired for now' : 'publishes are refused until the log recovered';
          this.deps.logger.error(fields, `no in-sync replica could take the leadership: ${kept}`);
        }
      })
      .catch((error: unknown) => this.deps.logger.warn({ err: error, ...fields }, 'leadership hand-over failed; will retry'))
      .finally(() => this.handingOver.delete(k));
  }
}

const key = (state: PartitionState): string => partitionKey({ stream: state.stream, partition: state.id } satisfies PartitionRef);
const countOf = (ranges: readonly OffsetRange[]): number => ranges.reduce((n, r) => n + r.lastOffset - r.firstOffset + 1, 0);
