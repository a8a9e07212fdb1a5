import type { NatsConnection } from 'nats';
import { DroppedMessageLog } from '../../../application/diagnostics/dropped-message-log';
import type { Logger } from '../../../application/ports/logger.port';

/**
 * What the adapters of the cluster's internal traffic (Raft, control channel, replication, seed
 * announcements) use of a NATS connection. A plain nats.js connection is one; so is
 * `AuthenticatedNatsConnection`, which signs everything published and drops what is received
 * without a valid signature, so the adapters need not know whether the cluster has a secret.
 */
export type InternalNatsConnection = Pick<NatsConnection, 'info' | 'publish' | 'subscribe' | 'request' | 'flush' | 'isClosed' | 'isDraining'>;

/** A drop log with no metrics, for adapters built without one (tests, embedders). */
export const loggingOnlyDropLog = (logger: Logger): DroppedMessageLog => new DroppedMessageLog(logger, { messageDropped: () => undefined }, () => Date.now());
