import { BrokerError, StorageIoError } from '../errors/broker-errors';

export { StorageIoError };

/** The log was closed (or deleted) while the caller used it. */
export class LogClosedError extends BrokerError {
  constructor(readonly reason: 'closed' | 'deleted') {
    super(reason === 'deleted' ? 'commit log was deleted' : 'commit log was closed');
  }
}

/** Client appends are refused on a read-only partition (docs/protocol.md "SetStreamReadonly"). */
export class LogReadonlyError extends BrokerError {
  constructor() {
    super('end of readonly log');
  }
}

export class OffsetOutOfRangeError extends BrokerError {}

/** Stored bytes failed validation (CRC, size, offset continuity). Never retried, never served. */
export class SegmentCorruptedError extends BrokerError {}

/**
 * A read reached a record this replica holds but cannot serve: damaged on disk (CRC or layout) or
 * missing between segments. The log keeps it listed in `PartitionLog.damaged` until it is repaired
 * or truncated; records after it stay readable (docs/storage.md §4.1).
 */
export class RecordDamagedError extends SegmentCorruptedError {
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`record at offset ${offset} is damaged on this server: ${detail}`);
  }
}
