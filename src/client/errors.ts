import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { PublishAsyncErrorCode } from '../protocol/api-types';

/**
 * Typed client errors. Every error carries the gRPC status code it came from (or `undefined` for
 * client-side failures such as an ack timeout) and whether retrying the same call may succeed.
 */
export class LiftbridgeError extends Error {
  constructor(
    message: string,
    readonly code: GrpcStatus | undefined,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** CreateStream: a stream with that name exists (ALREADY_EXISTS). */
export class StreamExistsError extends LiftbridgeError {}
/** The stream does not exist (NOT_FOUND on delete, publish, or missing from metadata). */
export class NoSuchStreamError extends LiftbridgeError {}
/** The partition does not exist (NOT_FOUND on pause/readonly/subscribe/partition metadata). */
export class NoSuchPartitionError extends LiftbridgeError {}
/** Publish to a readonly partition (FAILED_PRECONDITION `readonly partition`, PublishAsync READONLY). */
export class ReadonlyPartitionError extends LiftbridgeError {}
/** The server is not the partition leader; the client refreshes metadata and retries this. */
export class NotLeaderError extends LiftbridgeError {}
/** Optimistic concurrency control: the expected offset did not match. */
export class IncorrectOffsetError extends LiftbridgeError {}
/** The request was refused as invalid (INVALID_ARGUMENT, PublishAsync BAD_REQUEST). */
export class InvalidArgumentError extends LiftbridgeError {}
/** No ack arrived in time (client timeout or DEADLINE_EXCEEDED). */
export class AckTimeoutError extends LiftbridgeError {}
/** A subscription ended because its stream was deleted (NOT_FOUND mid-stream). */
export class StreamDeletedError extends LiftbridgeError {}
/** A subscription ended because its partition was paused (FAILED_PRECONDITION mid-stream). */
export class PartitionPausedError extends LiftbridgeError {}
/** No broker could be reached (UNAVAILABLE after all retries). */
export class BrokerUnavailableError extends LiftbridgeError {}
/**
 * The TLS handshake with a server failed in a way the message names: its certificate cannot be
 * verified with `tls.ca`, does not name the host, it asks for a client certificate, or it does not
 * speak TLS. A BrokerUnavailableError, so other servers are still tried.
 */
export class TlsHandshakeError extends BrokerUnavailableError {}
/**
 * The server's authorization refused the call (docs/security.md): the client's certificate Common
 * Name lacks the permission the message names, or the client has no verified identity.
 */
export class NotAuthorizedError extends LiftbridgeError {}
/** The client, publisher or subscription was closed. */
export class ClientClosedError extends LiftbridgeError {}
/** A publish rejected by the server for another reason (PublishAsync UNKNOWN/INTERNAL/ENCRYPTION_FAILED/PERMISSION_DENIED). */
export class PublishError extends LiftbridgeError {}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'details' in error;
}

/** Liftbridge's authorization refusals (code UNKNOWN): a missing permission or no client identity. */
const NOT_AUTHORIZED = /^The client is not authorized to call |^api: Failed to retrieve client ID/;

/** What grpc-js's "Last error" says about a failed TLS handshake, in plain words; null when it is not one. */
const TLS_PROBLEMS: readonly (readonly [RegExp, string])[] = [
  [/wrong version number|packet length too long/i, 'the server does not speak TLS (a plaintext server?)'],
  [/alert certificate required/i, 'the server requires a client certificate (give tls.cert and tls.key)'],
  [/alert (bad certificate|unknown ca|certificate expired|certificate unknown|certificate revoked|unsupported certificate)/i, 'the server refused the client certificate'],
  [/ALTNAME_INVALID|does not match certificate's altnames/i, "the server's certificate does not name the host connected to"],
  [/unable to verify|self[- ]signed|unable to get (local )?issuer|certificate has expired|certificate is not yet valid|certificate signature failure/i, "the server's certificate cannot be verified with the CA given (tls.ca)"],
];

export function tlsProblem(details: string): string | null {
  for (const [pattern, explanation] of TLS_PROBLEMS) {
    if (!pattern.test(details)) continue;
    const reason = /Last error: (?:Error(?: \[[A-Z_]+\])?: )?(.*?)\.?\s*(?:\(\d{4}-[^)]*\)\.?\s*)?Resolution note:/s.exec(details)?.[1]?.trim() ?? details.trim();
    // OpenSSL's own lines ("…:SSL routines:ssl3_get_record:wrong version number:…"): the reason only.
    const openssl = /SSL routines:[^:]*:([^:]+)/.exec(reason)?.[1];
    return `TLS handshake failed: ${explanation} (${(openssl ?? reason).replace(/\s+/g, ' ').replace(/[\s:.]+$/, '')})`;
  }
  return null;
}

/** True for Liftbridge's not-leader answers (docs/protocol.md "Who answers"): FAILED_PRECONDITION mentioning the leader. */
export function isNotLeader(error: ServiceError): boolean {
  return error.code === GrpcStatus.FAILED_PRECONDITION && /leader/i.test(error.details);
}

/** Which RPC failed; some codes mean different things per RPC (docs/client.md "Errors"). */
export type ErrorContext = 'create' | 'delete' | 'pause' | 'readonly' | 'publish' | 'subscribe' | 'partition-metadata' | 'other';

/** Maps a gRPC error to a typed client error (kept as `cause`). Non-gRPC errors pass through. */
export function mapServiceError(error: unknown, context: ErrorContext = 'other'): Error {
  if (error instanceof LiftbridgeError || !isServiceError(error)) return error as Error;
  const message = error.details || error.message;
  const code = error.code as GrpcStatus;
  const opts = { cause: error };
  switch (code) {
    case GrpcStatus.ALREADY_EXISTS:
      return context === 'create' ? new StreamExistsError(message, code, false, opts) : new LiftbridgeError(message, code, false, opts);
    case GrpcStatus.NOT_FOUND:
      if (/partition/i.test(message) || context === 'pause' || context === 'readonly' || context === 'partition-metadata') {
        if (!/stream/i.test(message)) return new NoSuchPartitionError(message, code, false, opts);
      }
      return new NoSuchStreamError(message, code, false, opts);
    case GrpcStatus.FAILED_PRECONDITION:
      if (/readonly/i.test(message)) return new ReadonlyPartitionError(message, code, false, opts);
      if (isNotLeader(error)) return new NotLeaderError(message, code, true, opts);
      return new LiftbridgeError(message, code, false, opts);
    case GrpcStatus.INVALID_ARGUMENT:
      return new InvalidArgumentError(message, code, false, opts);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new AckTimeoutError(message, code, true, opts);
    case GrpcStatus.UNAVAILABLE: {
      const tls = tlsProblem(message);
      return tls === null ? new BrokerUnavailableError(message, code, true, opts) : new TlsHandshakeError(tls, code, true, opts);
    }
    case GrpcStatus.UNKNOWN:
      if (/incorrect expected offset/i.test(message)) return new IncorrectOffsetError(message, code, false, opts);
      if (NOT_AUTHORIZED.test(message)) return new NotAuthorizedError(message, code, false, opts);
      return new LiftbridgeError(message, code, false, opts);
    default:
      return new LiftbridgeError(message, code, false, opts);
  }
}

/** Maps a PublishAsync `asyncError` (docs/protocol.md "PublishAsync") to a typed error. */
export function mapAsyncError(code: PublishAsyncErrorCode, message: string): LiftbridgeError {
  switch (code) {
    case PublishAsyncErrorCode.NOT_FOUND:
      return /stream/i.test(message)
        ? new NoSuchStreamError(message, GrpcStatus.NOT_FOUND)
        : new NoSuchPartitionError(message, GrpcStatus.NOT_FOUND);
    case PublishAsyncErrorCode.READONLY:
      return new ReadonlyPartitionError(message, GrpcStatus.FAILED_PRECONDITION);
    case PublishAsyncErrorCode.INCORRECT_OFFSET:
      return new IncorrectOffsetError(message, GrpcStatus.UNKNOWN);
    case PublishAsyncErrorCode.BAD_REQUEST:
      return new InvalidArgumentError(message, GrpcStatus.INVALID_ARGUMENT);
    case PublishAsyncErrorCode.PERMISSION_DENIED:
      return new NotAuthorizedError(message, GrpcStatus.PERMISSION_DENIED);
    case PublishAsyncErrorCode.INTERNAL:
    case PublishAsyncErrorCode.ENCRYPTION_FAILED:
      return new PublishError(message, GrpcStatus.INTERNAL);
    default:
      return new PublishError(message, GrpcStatus.UNKNOWN);
  }
}
