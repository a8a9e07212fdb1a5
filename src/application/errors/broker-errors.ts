/**
 * Infrastructure failures are typed exceptions with `retriable` (docs/style.md "Errors", after kafkajs).
 * Business outcomes are never thrown: they are `Result` values from the domain.
 */
export class BrokerError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A message is larger than the transport or the stream accepts (reported as TOO_LARGE). */
export class PayloadTooLargeError extends BrokerError {
  constructor(sizeBytes: number, maxBytes: number) {
    super(`message exceeds max replication size (${sizeBytes} > ${maxBytes} bytes)`);
  }
}

/** NATS could not be reached (start-up gave up, or the failure is not one that waiting cures). */
export class NatsUnavailableError extends BrokerError {}
/**
 * A write or sync to local storage failed (`code`: the system's error code, e.g. `ENOSPC`, `EIO`).
 * Retriable: the storage that failed recovers by itself once the cause is gone (docs/storage.md).
 */
export class StorageIoError extends BrokerError {
  constructor(
    message: string,
    readonly code: string = 'UNKNOWN',
    options: { cause?: unknown } = {},
  ) {
    super(message, { retriable: true, cause: options.cause });
  }
}
