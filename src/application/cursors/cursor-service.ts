import { inject, injectable } from 'inversify';
import { err, ok, Result } from '../../domain/shared/result';
import { PartitionState } from '../../domain/partition/partition-state';
import { CURSORS_STREAM } from '../cluster/internal-streams';
import { MetadataService } from '../metadata/metadata-service';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { Scheduler } from '../ports/clock.port';
import { CursorRecords } from '../ports/cursor-records.port';
import { Metrics } from '../ports/metrics.port';
import { AckPolicy } from '../ports/message-transport.port';
import { PartitionLog } from '../ports/partition-log.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { PublishHandler } from '../use-cases/publish';
import { StreamAdminHandler } from '../use-cases/stream-admin';
import { CursorCache } from './cursor-cache';
import { cursorKey, cursorPartition } from './cursor-key';

/** SetCursor and FetchCursor wait at most this long without a client deadline (docs/consumers.md "Cursors"). */
export const CURSOR_DEFAULT_WAIT_MS = 5000;
/** Offsets read per step of the newest-to-oldest scan, and bytes per read. */
const SCAN_WINDOW_OFFSETS = 256;
const SCAN_READ_BYTES = 1024 * 1024;

export interface CursorAddress {
  readonly cursorId: string;
  readonly stream: string;
  readonly partition: number;
}

/** Why a cursor call was refused; mapped to gRPC statuses and Liftbridge's messages by the API adapter. */
export type CursorError =
  | { readonly kind: 'NoStreamProvided' }
  | { readonly kind: 'NoCursorIdProvided' }
  | { readonly kind: 'CursorsDisabled' }
  | { readonly kind: 'CursorsPartitionMissing'; readonly partition: number }
  | { readonly kind: 'NotCursorsLeader'; readonly partition: number }
  /** The owning partition's leader has not yet committed its log after a leader change. */
  | { readonly kind: 'CursorsNotCommitted'; readonly partition: number }
  | { readonly kind: 'CursorWriteFailed'; readonly reason: string };

interface Owner {
  readonly key: string;
  readonly partition: PartitionState;
}

/**
 * Cursors (docs/consumers.md "Cursors"): a cursor is a record of `__cursors`, keyed
 * `<cursorId>,<stream>,<partition>`, on the partition its key hashes to; only that partition's
 * leader answers. Writes go through the normal publish path with AckPolicy ALL; reads come from an
 * LRU cache or a newest-to-oldest scan of the committed log.
 */
@injectable()
export class CursorService {
  private readonly cache = new CursorCache();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
    @inject(PublishHandler) private readonly publisher: PublishHandler,
    @inject(StreamAdminHandler) private readonly admin: StreamAdminHandler,
    @inject(TOKENS.CursorRecords) private readonly records: CursorRecords,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
  ) {}

  async setCursor(address: CursorAddress, offset: number, deadlineMs: number | null): Promise<Result<void, CursorError>> {
    const owner = this.owner(address);
    if (!owner.ok) return owner;
    const { key, partition } = owner.value;
    const written = await this.publisher.publish(
      {
        key: Buffer.from(key, 'utf8'),
        value: this.records.encode({ ...address, offset }),
        stream: CURSORS_STREAM,
        partition: partition.id,
        headers: null,
        ackInbox: '',
        correlationId: '',
        ackPolicy: AckPolicy.ALL,
        expectedOffset: -1,
      },
      deadlineMs ?? CURSOR_DEFAULT_WAIT_MS,
    );
    if (!written.ok) {
      this.metrics.cursorWritten(false);
      return err({ kind: 'CursorWriteFailed', reason: written.error.kind });
    }
    this.metrics.cursorWritten(true);
    this.cache.set(key, partition.id, partition.leaderEpoch, offset);
    return ok(undefined);
  }

  async fetchCursor(address: CursorAddress, deadlineMs: number | null): Promise<Result<number, CursorError>> {
    const owner = this.owner(address);
    if (!owner.ok) return owner;
    const { key, partition } = owner.value;
    const cached = this.cache.get(key, partition.id, partition.leaderEpoch);
    if (cached !== undefined) return ok(cached);
    if (partition.paused) {
      const resumed = await this.admin.resumeStream(CURSORS_STREAM, [partition.id]);
      if (!resumed.ok) return err({ kind: 'CursorWriteFailed', reason: `resume failed: ${resumed.error.kind}` });
    }
    const log = this.partitions.get({ stream: CURSORS_STREAM, partition: partition.id });
    if (!log?.isLeader) return err({ kind: 'NotCursorsLeader', partition: partition.id });
    if (!(await this.committed(log.log, deadlineMs ?? CURSOR_DEFAULT_WAIT_MS))) return err({ kind: 'CursorsNotCommitted', partition: partition.id });
    const found = await this.scan(log.log, key);
    if (found !== -1) this.cache.set(key, partition.id, partition.leaderEpoch, found);
    return ok(found);
  }

  /** Validates the address and finds the `__cursors` partition that owns it, led by this server. */
  private owner(address: CursorAddress): Result<Owner, CursorError> {
    if (address.stream === '') return err({ kind: 'NoStreamProvided' });
    if (address.cursorId === '') return err({ kind: 'NoCursorIdProvided' });
    const cursors = this.metadata.state.streams.get(CURSORS_STREAM);
    if (cursors === undefined) return err({ kind: 'CursorsDisabled' });
    const key = cursorKey(address.cursorId, address.stream, address.partition);
    const id = cursorPartition(key, cursors.partitions.length);
    const partition = cursors.partitions[id];
    if (partition === undefined) return err({ kind: 'CursorsPartitionMissing', partition: id });
    if (partition.leader !== this.settings.serverId) return err({ kind: 'NotCursorsLeader', partition: id });
    return ok({ key, partition });
  }

  /**
   * A new leader may hold acknowledged cursors above its high watermark until it commits them in
   * its own epoch: wait for that, so a cursor acknowledged before a failover is never read older.
   */
  private async committed(log: PartitionLog, waitMs: number): Promise<boolean> {
    const target = log.newestOffset;
    if (log.highWatermark >= target) return true;
    const controller = new AbortController();
    const timer = this.scheduler.setTimeout(() => controller.abort(), waitMs);
    try {
      while (log.highWatermark < target && !controller.signal.aborted && log.closedReason === null) {
        await log.waitForCommit(log.highWatermark, controller.signal);
      }
    } finally {
      timer.cancel();
    }
    return log.highWatermark >= target;
  }

  /** The offset of the newest committed record of `key`, scanning back window by window; -1 when none. */
  private async scan(log: PartitionLog, key: string): Promise<number> {
    const oldest = log.oldestOffset;
    if (log.highWatermark === -1 || oldest === -1) return -1;
    for (let last = log.highWatermark; last >= oldest; last -= SCAN_WINDOW_OFFSETS) {
      const first = Math.max(oldest, last - SCAN_WINDOW_OFFSETS + 1);
      let found: number | null = null;
      for (let from = first; from <= last; ) {
        const batch = await log.read(from, last, SCAN_READ_BYTES);
        if (batch === null) break;
        found = this.records.latestIn(batch, key) ?? found;
        from = batch.lastOffset + 1;
      }
      if (found !== null) return found;
    }
    return -1;
  }
}
