/**
 * Infrastructure failures are typed exceptions with `retriable` (style §4.7, after kafkajs).
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
