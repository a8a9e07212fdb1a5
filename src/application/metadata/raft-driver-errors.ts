import { BrokerError, StorageIoError } from '../errors/broker-errors';

/** Errors of `RaftDriver` (raft-driver.ts). */

/** The proposal queue is full: the caller should back off and retry. */
export class RaftProposalQueueFullError extends BrokerError {
  constructor(readonly proposalsQueuedMax: number) {
    super(`raft proposal queue is full (${proposalsQueuedMax} queued)`, { retriable: true });
  }
}

/** The driver is not running (not started yet, stopping, stopped, or failed). */
export class RaftDriverStoppedError extends BrokerError {
  constructor(state: string) {
    super(`raft driver is ${state}`, { retriable: true });
  }
}

/**
 * The metadata log's storage failed (a full disk): nothing new is persisted until a retried save
 * succeeds, so proposals are refused meanwhile (docs/raft.md "Storage failures"). Retriable.
 */
export class RaftStorageFailedError extends BrokerError {
  constructor(
    readonly failure: StorageIoError,
    consequence = 'proposals are refused until it recovers',
  ) {
    super(`metadata log storage failed (${failure.code}: ${failure.message}); ${consequence}; retry later`, { retriable: true, cause: failure });
  }
}

/** A save retry was cut short because the driver stops (the driver's own, never thrown to callers). */
export class SaveRetryInterrupted extends Error {}

/** `compact(index, …)` was handled when the node had applied a different index: nothing was compacted. */
export class RaftCompactionIndexError extends BrokerError {
  constructor(
    readonly index: number,
    readonly appliedIndex: number,
  ) {
    super(`cannot compact the raft log at ${index}: the applied index is ${appliedIndex}`, { retriable: true });
  }
}
