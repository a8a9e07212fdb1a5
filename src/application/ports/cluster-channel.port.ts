import type { Observable } from 'rxjs';
import type { MetadataCommand } from '../../domain/metadata/metadata-commands';
import type { MetadataError } from '../../domain/metadata/metadata-errors';
import type { MetadataEvent } from '../../domain/metadata/metadata-events';
import type { Cancellable } from './clock.port';

/** The controller's answer to a forwarded metadata command. */
export type ForwardedAnswer =
  /** Recorded (or nothing to record); `index` is the controller's applied index right after it. */
  | { readonly kind: 'applied'; readonly events: readonly MetadataEvent[]; readonly index: number }
  /** Refused by the domain rules: relayed to the client with the same status and message. */
  | { readonly kind: 'refused'; readonly error: MetadataError }
  /** Could not be decided now (the answerer is not the controller, a timeout, ...): retry. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** A heartbeat: the sender is alive and serves clients at host:port. */
export interface BrokerHeartbeat {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** No controller answered in time (none elected yet, or it just died): retry later. */
export class ControllerUnreachableError extends Error {
  constructor(reason: string) {
    super(`no controller answered: ${reason}`);
  }
}

/**
 * Server-to-server control traffic of the metadata plane (docs/protocol.md "Subjects"; docs/cluster.md): commands forwarded to the
 * controller, join requests, and heartbeats. Only the controller serves commands and joins.
 */
export interface ClusterChannel {
  /** Sends `command` to whoever serves as controller; rejects with `ControllerUnreachableError`. */
  forward(command: MetadataCommand, timeoutMs: number): Promise<ForwardedAnswer>;
  /** Serves forwarded commands until cancelled (while this server is the controller). */
  serveCommands(handler: (command: MetadataCommand) => Promise<ForwardedAnswer>): Promise<Cancellable>;
  /** Asks the controller to add `serverId` to the Raft group; resolves with its error ('' = done). */
  requestJoin(serverId: string, timeoutMs: number): Promise<string>;
  /** Serves join requests until cancelled; the handler returns '' or an error message. */
  serveJoins(handler: (serverId: string) => Promise<string>): Promise<Cancellable>;
  /** Publishes this server's heartbeat (fire and forget). */
  announce(heartbeat: BrokerHeartbeat): void;
  /** Heartbeats of every server, this one included. */
  readonly heartbeats$: Observable<BrokerHeartbeat>;
  close(): Promise<void>;
}
