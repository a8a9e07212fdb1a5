import { status } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type * as api from '../../../protocol/api-types';

/** One check of the authorization table: the client must be allowed `action` on `object`. */
export interface Permission {
  readonly object: string;
  readonly action: string;
}

/** The stream of cursors, on which SetCursor also needs Publish (the server writes the cursor there for the caller). */
export const CURSORS_STREAM = '__cursors';

/** The object of FetchMetadata, whatever streams it names. */
export const ANY_RESOURCE = '*';

type Rule<Req> = (request: Req) => readonly Permission[];

const on =
  <Req>(action: string, object: (request: Req) => string): Rule<Req> =>
  (request) => [{ object: object(request), action }];

/**
 * What each RPC of `proto.API` needs, as Liftbridge 1.9 checks it (docs/security.md
 * "Authorization"), so that its policy files mean the same here. PublishAsync is checked per
 * request with the `Publish` rule; the consumer-group RPCs are not checked, as in Liftbridge
 * (reading still needs Subscribe).
 */
export const RPC_PERMISSIONS = {
  CreateStream: on<api.CreateStreamRequest>('CreateStream', (r) => r.name),
  DeleteStream: on<api.DeleteStreamRequest>('DeleteStream', (r) => r.name),
  PauseStream: on<api.PauseStreamRequest>('PauseStream', (r) => r.name),
  SetStreamReadonly: on<api.SetStreamReadonlyRequest>('SetStreamReadonly', (r) => r.name),
  Subscribe: on<api.SubscribeRequest>('Subscribe', (r) => r.stream),
  FetchMetadata: on<api.FetchMetadataRequest>('FetchMetadata', () => ANY_RESOURCE),
  FetchPartitionMetadata: on<api.FetchPartitionMetadataRequest>('FetchPartitionMetadata', (r) => r.stream),
  Publish: on<api.PublishRequest>('Publish', (r) => r.stream),
  PublishAsync: on<api.PublishRequest>('Publish', (r) => r.stream),
  PublishToSubject: on<api.PublishToSubjectRequest>('PublishToSubject', (r) => r.subject),
  SetCursor: (r: api.SetCursorRequest) => [
    { object: r.stream, action: 'SetCursor' },
    { object: CURSORS_STREAM, action: 'Publish' },
  ],
  FetchCursor: on<api.FetchCursorRequest>('FetchCursor', (r) => r.stream),
  JoinConsumerGroup: () => [],
  LeaveConsumerGroup: () => [],
  FetchConsumerGroupAssignments: () => [],
  ReportConsumerGroupCoordinator: () => [],
} as const satisfies Record<string, Rule<never>>;

export type ApiRpcName = keyof typeof RPC_PERMISSIONS;

/** A refusal as Liftbridge answers it: code UNKNOWN (a plain error in Go) and its message. */
export interface Denial {
  readonly code: status;
  readonly details: string;
}

export const NO_CLIENT_ID: Denial = { code: status.UNKNOWN, details: 'api: Failed to retrieve client ID' };

export function notAuthorized(permission: Permission): Denial {
  return { code: status.UNKNOWN, details: `The client is not authorized to call ${permission.action} on resource ${permission.object}` };
}

/**
 * The client's identity: the Common Name of its verified certificate (grpc-js gives the peer
 * certificate only once the handshake verified it). None when there is no certificate, no CN, or
 * several CNs (ambiguous: refused rather than guessed).
 */
export function clientIdentity(authContext: { readonly sslPeerCertificate?: PeerCertificate } | null): string | null {
  const commonName: unknown = authContext?.sslPeerCertificate?.subject?.CN;
  return typeof commonName === 'string' && commonName !== '' ? commonName : null;
}
