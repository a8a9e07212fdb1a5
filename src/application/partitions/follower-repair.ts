import { PartitionRef } from '../../domain/shared/ids';
import { Logger } from '../ports/logger.port';
import { OffsetRange, PartitionLog } from '../ports/partition-log.port';
import { ReplicationTransport, ReplicationUnavailableError } from '../ports/replication-transport.port';

export interface FollowerRepairOptions {
  readonly self: string;
  readonly ref: PartitionRef;
  readonly leaderEpoch: number;
  readonly fetchTimeoutMs: number;
}

export interface FollowerRepairDeps {
  readonly log: PartitionLog;
  readonly transport: ReplicationTransport;
  readonly logger: Logger;
  /** Whether the metadata has this replica in the partition's ISR now. */
  readonly inIsr: () => boolean;
}

/**
 * What a repair attempt came to: `none` (nothing damaged), `repaired` (progress: look again),
 * `retry` (the leader could not hand over a good copy now: replicate as usual, try again later),
 * `stall` (this replica must leave the ISR first: it stops fetching until the leader drops it).
 */
export type RepairOutcome = 'none' | 'repaired' | 'retry' | 'stall';

/** Failed attempts in a row after which readers are told the damage cannot be repaired now. */
const ATTEMPTS_BEFORE_BLOCKED = 3;

/**
 * A follower repairs the damaged records of its log from its leader (docs/replication.md
 * "Damaged records"). It asks the leader for the records from the first damaged offset (a fetch from the
 * offset before it: the leader verifies each record's CRC when it reads, so the copy is good) and:
 * - rewrites the damaged records in place (`repairDamaged`): nothing else changes, no intact record
 *   is removed, and the file ends up byte-identical to the leader's records;
 * - when that is impossible (missing records, or a copy of another length), truncates from the
 *   damaged offset and lets the fetch loop re-fetch, but only once outside the ISR: a member of the
 *   ISR counts for commits and elections as holding what it held, so it must not drop records. It
 *   stops fetching meanwhile, so the leader removes it after the replica lag time. Outside the ISR
 *   the leader holds everything this replica holds (its log is a prefix of the leader's), so
 *   nothing truncated is lost.
 */
export class FollowerRepair {
  private failures = 0;
  private stallLogged = false;

  constructor(
    private readonly options: FollowerRepairOptions,
    private readonly deps: FollowerRepairDeps,
  ) {}

  /** True while the damage could not be repaired for a while (the leader cannot serve it either). */
  get blocked(): boolean {
    return this.failures >= ATTEMPTS_BEFORE_BLOCKED;
  }

  async attempt(): Promise<RepairOutcome> {
    const { log, logger } = this.deps;
    const range = log.damaged[0];
    if (range === undefined || range.firstOffset > log.newestOffset) return 'none';
    const copy = await this.leaderCopy(range);
    if (copy === null) return this.failed(range, 'the leader did not send a good copy');
    const repaired = await log.repairDamaged(copy);
    if (repaired > 0) {
      this.failures = 0;
      this.stallLogged = false;
      logger.info({ ...range, repaired }, 'repaired damaged records from the leader');
      return 'repaired';
    }
    if (this.deps.inIsr()) {
      if (!this.stallLogged) logger.warn({ ...range }, 'damaged records cannot be rewritten in place: not fetching until the leader drops this replica from the ISR, then truncating and re-fetching');
      this.stallLogged = true;
      return 'stall';
    }
    logger.warn({ ...range, newestOffset: log.newestOffset }, 'damaged records cannot be rewritten in place: truncating from them to re-fetch from the leader');
    await log.truncateFrom(range.firstOffset);
    this.failures = 0;
    this.stallLogged = false;
    return 'repaired';
  }

  /** The leader's records from `range.firstOffset`, or null when it did not send them. */
  private async leaderCopy(range: OffsetRange): Promise<Parameters<PartitionLog['repairDamaged']>[0] | null> {
    const { ref, self, leaderEpoch, fetchTimeoutMs } = this.options;
    try {
      // A fetch reporting the offset before the damage: the leader only ever raises what it knows we hold.
      const reply = await this.deps.transport.fetch(ref, { replicaId: self, offset: range.firstOffset - 1, leaderEpoch }, fetchTimeoutMs);
      if (reply.leaderEpoch !== leaderEpoch || reply.records === null || reply.records.firstOffset !== range.firstOffset) return null;
      return reply.records;
    } catch (error) {
      if (error instanceof ReplicationUnavailableError) return null;
      throw error;
    }
  }

  private failed(range: OffsetRange, reason: string): RepairOutcome {
    this.failures++;
    if (this.failures === ATTEMPTS_BEFORE_BLOCKED) this.deps.logger.error({ ...range, reason }, 'damaged records cannot be repaired from the leader for now; readers reaching them are told so');
    return 'retry';
  }
}
