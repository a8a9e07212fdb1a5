import { BrokerError, StorageIoError } from '../errors/broker-errors';

export { StorageIoError };

/** The log was closed (or deleted) while the caller used it. */
export class LogClosedError extends BrokerError {
  constructor(readonly reason: 'closed' | 'deleted') {
    super(reason === 'deleted' ? 'commit log was deleted' : 'commit log was closed');
  }
}

/** Client appends are refused on a read-only partition (spec §2.5). */
export class LogReadonlyError extends BrokerError {
  constructor() {
    super('end of readonly log');
  }
}

export class OffsetOutOfRangeError extends BrokerError {}

/** Stored bytes failed validation (CRC, size, offset continuity). Never retried, never served. */
export class SegmentCorruptedError extends BrokerError {}
