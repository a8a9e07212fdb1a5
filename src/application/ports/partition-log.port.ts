import { PartitionRef } from '../../domain/shared/ids';
import type { StorageIoError } from '../errors/broker-errors';

/**
 * The partition commit log: a published extension point (docs/custom-storage.md). Every adapter
 * must pass `test/contract/partition-log.contract.ts`.
 *
 * Positions follow Liftbridge's words: `oldestOffset` is the first retained offset, `newestOffset`
 * the last written one (both -1 when the log is empty), `highWatermark` the last committed offset
 * (-1 when none). Only records at or below the high watermark are visible to subscribers.
 *
 * Records are stored and returned in the Liftbridge message-set format (docs/storage.md "Message-set entry", "Encoded message"): entries of a
 * 28-byte header (offset, timestamp ns, leader epoch, size) followed by the encoded message with its
 * CRC-32C. The same bytes travel in replication responses, so reads hand them out without decoding.
 *
 * Errors thrown (see `partition-log.errors.ts`): `LogClosedError`, `LogReadonlyError`,
 * `OffsetOutOfRangeError`, `SegmentCorruptedError` (not retriable; `RecordDamagedError` when a read
 * reaches a damaged record), `StorageIoError` (a write or sync failed: see `storageFailure`).
 */
export interface PartitionLog {
  readonly ref: PartitionRef;
  /** First retained offset, -1 when empty. */
  readonly oldestOffset: number;
  /** Last assigned offset, -1 when empty. Advances synchronously inside `append`. */
  readonly newestOffset: number;
  /** Last offset known durable under the sync policy (written, and fsynced when the policy says so). */
  readonly durableOffset: number;
  /** Last committed offset, -1 when none. Never decreases while the log is open. */
  readonly highWatermark: number;
  readonly isReadonly: boolean;
  /** Why the log stopped serving, or null while it is open. */
  readonly closedReason: LogClosedReason | null;
  /**
   * Records this replica holds but cannot serve (damaged on disk, or missing between segments), in
   * offset order; empty when the log is sound. Found by recovery or by a read that failed
   * verification; reads of them throw `RecordDamagedError`, reads of other records are unaffected.
   * A new array whenever it changes, so callers may keep the one they saw and compare identity.
   */
  readonly damaged: readonly OffsetRange[];
  /**
   * Null while the log can write. After a write or sync failed (a full disk: code `ENOSPC`), the
   * failure, until the log has recovered by itself: meanwhile `append`, `appendReplicated`,
   * `truncateFrom` and `enforceRetention` throw it at once (and the appends in flight rejected
   * with it), while reads of what is durable keep working. Recovering drops what was not durable
   * (it was never acknowledged), so the log continues right after `durableOffset`. An adapter that
   * cannot fail this way always answers null. (docs/storage.md, docs/custom-storage.md)
   */
  readonly storageFailure: StorageIoError | null;

  /**
   * Leader append. Assigns consecutive offsets from `newestOffset + 1` synchronously (the returned
   * range is known before the promise settles, via `range`), stamps every record with `timestampNs`
   * and `leaderEpoch`, and resolves once the records are durable under the sync policy ("always":
   * written and fsynced, one fsync covering every append that arrived while the previous one ran;
   * "interval"/"never": written to the OS). Throws `LogReadonlyError` when read-only. Any throw
   * happens before anything changes (offsets, epochs, bytes): the leader then retries the records
   * one by one, so that one record the log cannot take fails alone (docs/storage.md §1.5).
   */
  append(records: readonly NewRecord[], timestampNs: bigint, leaderEpoch: number): PendingAppend;

  /**
   * Follower append: raw entries as received from the leader, keeping their offsets, timestamps and
   * epochs. The first entry must be `newestOffset + 1`; CRCs and continuity are validated before
   * anything is written. Allowed when read-only (as Liftbridge's AppendMessageSet is). The log may
   * keep `batch.bytes` (no copy): the caller must not change them afterwards.
   */
  appendReplicated(batch: RecordBatch): Promise<void>;

  /**
   * Reads entries starting at `fromOffset` (clamped up to `oldestOffset`) and not past `maxOffset`
   * (inclusive; pass `highWatermark` for committed reads), stopping before `maxBytes` is exceeded but
   * always returning at least one entry when one is available. Resolves null when no entry in range
   * exists yet. Entries read from storage are verified (CRC) before they are returned; entries the
   * log still holds in memory from their append were validated then. The bytes must not be changed.
   */
  read(fromOffset: number, maxOffset: number, maxBytes: number): Promise<RecordBatch | null>;

  /** Earliest offset whose timestamp >= `timestampNs`; the next offset to be assigned when none (0 on an empty log). docs/storage.md "Segments, retention, epochs, truncation". */
  earliestOffsetAtOrAfter(timestampNs: bigint): number;
  /** Latest offset whose timestamp <= `timestampNs`; null when `timestampNs` is before the first record. docs/storage.md "Segments, retention, epochs, truncation". */
  latestOffsetAtOrBefore(timestampNs: bigint): number | null;

  /** Raises the high watermark (never lowers it; asserts it is <= durableOffset). Wakes waiters. */
  setHighWatermark(offset: number): void;
  /**
   * Resolves when the high watermark passes `afterOffset`, when the read-only flag changes, when the
   * log closes, or when `signal` aborts. It never rejects; callers re-check the positions.
   */
  waitForCommit(afterOffset: number, signal: AbortSignal): Promise<void>;

  setReadonly(readonly: boolean): void;

  /**
   * Records that `epoch` starts at `newestOffset + 1` (ignored unless greater than the last epoch).
   * Appends also record the epoch of their first record when it is new, so followers learn epochs
   * from the data. Persisted in the leader-epoch checkpoint (atomic replace).
   */
  beginLeaderEpoch(epoch: number): void;
  /**
   * Kafka KIP-101 semantics (not Liftbridge's off-by-one variant, see docs/compatibility.md): the end
   * offset (exclusive) of `epoch` = start offset of the first recorded epoch greater than `epoch`, or
   * `newestOffset + 1` when there is none. A follower truncates everything at or after it.
   */
  endOffsetForLeaderEpoch(epoch: number): number;
  /** The newest epoch recorded, 0 when none. */
  readonly lastLeaderEpoch: number;
  /** Kafka KIP-279: the largest recorded epoch <= `epoch`, -1 when none (a follower asks the leader). */
  leaderEpochAtOrBefore(epoch: number): number;
  /** Removes every record with offset >= `offset` and the epochs that start there. */
  truncateFrom(offset: number): Promise<void>;
  /**
   * Replaces damaged records by another replica's copies (entries as `read` returns them, so
   * verified): every range of `damaged` that `batch` covers whole and whose stored span has the
   * same length is rewritten in place, durably, and leaves `damaged`. Nothing else changes, so no
   * intact record is ever removed to repair one. Resolves with the number of records repaired;
   * ranges it cannot rewrite in place (missing records, a different length) stay damaged. Throws
   * `SegmentCorruptedError` when `batch` fails validation.
   */
  repairDamaged(batch: RecordBatch): Promise<number>;

  /**
   * Periodic maintenance (the "cleaner"): rolls the active segment when it is older than the segment
   * age limit, then deletes whole sealed segments by age, message count and bytes (in that order).
   * Never deletes the active segment or anything above the high watermark.
   */
  enforceRetention(nowNs: bigint): Promise<RetentionOutcome>;

  /** Flushes, checkpoints the high watermark and releases file handles. Wakes waiters. */
  close(reason?: LogClosedReason): Promise<void>;
}

export type LogClosedReason = 'closed' | 'deleted';

/** A record as the leader receives it. `subject`/`reply` become the server headers of the same names. */
export interface NewRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** User headers; keys `subject` and `reply` are replaced by the server headers. */
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  /** NATS subject the message arrived on. */
  readonly subject: string;
  /** NATS reply subject ('' when none). */
  readonly reply: string;
}

/** Consecutive message-set entries exactly as stored (docs/storage.md "Message-set entry"). */
export interface RecordBatch {
  readonly bytes: Buffer;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly count: number;
}

/** Offsets `firstOffset` to `lastOffset`, both included. */
export interface OffsetRange {
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** Offsets assigned by `append`, known at once; `durable` settles when they are durable. */
export interface PendingAppend {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly durable: Promise<void>;
}

export interface RetentionOutcome {
  readonly segmentsDeleted: number;
  readonly rolled: boolean;
}

export type SyncPolicy = 'always' | 'interval' | 'never';

/** Every option is explicit; defaults come from configuration (docs/protocol.md "Stream options"; docs/configuration.md "Keys"). */
export interface PartitionLogOptions {
  /** Roll the active segment once it holds this many bytes. */
  readonly segmentMaxBytes: number;
  /** Roll the active segment once its first record is this old (0 = size only). */
  readonly segmentMaxAgeMs: number;
  /** 0 = unlimited. */
  readonly retentionMaxBytes: number;
  /** 0 = unlimited. */
  readonly retentionMaxMessages: number;
  /** 0 = unlimited. */
  readonly retentionMaxAgeMs: number;
  readonly syncPolicy: SyncPolicy;
  /** With syncPolicy "interval": fsync at most this long after a write. */
  readonly syncIntervalMs: number;
}

/** Opens, lists and deletes partition logs. One store per broker. */
export interface PartitionLogStore {
  /** Opens (creating if needed) and recovers the log. Opening an open log is an error. */
  open(ref: PartitionRef, options: PartitionLogOptions): Promise<PartitionLog>;
  /** Closes the log if open (waking waiters with 'deleted') and removes its data. */
  delete(ref: PartitionRef): Promise<void>;
  /** Removes every partition of a stream, including the stream's directory. */
  deleteStream(stream: string): Promise<void>;
  /** Partitions that have data in this store. */
  list(): Promise<PartitionRef[]>;
}
