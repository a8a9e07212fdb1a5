import { Msg, Subscription } from 'nats';
import { Observable, Subject } from 'rxjs';
import { DroppedMessageLog, errorDetail } from '../../../application/diagnostics/dropped-message-log';
import type { Cancellable } from '../../../application/ports/clock.port';
import { BrokerHeartbeat, ClusterChannel, ControllerUnreachableError, ForwardedAnswer } from '../../../application/ports/cluster-channel.port';
import type { Logger } from '../../../application/ports/logger.port';
import type { MetadataCommand } from '../../../domain/metadata/metadata-commands';
import {
  decodeForwardedAnswer,
  decodeForwardedCommand,
  decodeHeartbeat,
  decodeJoinRequest,
  decodeJoinResponse,
  encodeForwardedAnswer,
  encodeForwardedCommand,
  encodeHeartbeat,
  encodeJoinRequest,
  encodeJoinResponse,
} from '../../codec/cluster-control-codec';
import { InternalNatsConnection, loggingOnlyDropLog } from './internal-connection';
import { requestOrUnavailable, serveRequests } from './request-reply';
import { MessageKind, Subjects } from './subjects';

/**
 * `ClusterChannel` over NATS request/reply (docs/protocol.md "Subjects"): commands on `<ns>.raft.metadata.propagate`,
 * joins on `<ns>.raft.metadata.join` (both served by the controller alone), heartbeats published
 * to `<ns>.raft.heartbeat`. Undecodable messages are dropped and counted (`DroppedMessageLog`:
 * rate-limited log lines), never thrown and never answered.
 */
export class NatsClusterChannel implements ClusterChannel {
  private readonly subjects: Subjects;
  private readonly beats = new Subject<BrokerHeartbeat>();
  private readonly heartbeatSubscription: Subscription;
  private readonly served = new Set<Subscription>();
  readonly heartbeats$: Observable<BrokerHeartbeat> = this.beats.asObservable();

  constructor(
    private readonly nc: InternalNatsConnection,
    namespace: string,
    private readonly logger: Logger,
    private readonly drops: DroppedMessageLog = loggingOnlyDropLog(logger),
  ) {
    this.subjects = new Subjects(namespace);
    this.heartbeatSubscription = nc.subscribe(this.subjects.heartbeats(), {
      callback: (error, msg) => {
        if (error) return;
        try {
          this.beats.next(decodeHeartbeat(msg.data));
        } catch (decodeError) {
          this.drops.drop(MessageKind.heartbeat, 'malformed', 'dropping malformed heartbeat', { detail: errorDetail(decodeError), bytes: msg.data.length });
        }
      },
    });
  }

  async forward(command: MetadataCommand, timeoutMs: number): Promise<ForwardedAnswer> {
    const reply = await this.request(this.subjects.metadataPropagate(), encodeForwardedCommand(command), timeoutMs);
    return decodeForwardedAnswer(reply.data);
  }

  serveCommands(handler: (command: MetadataCommand) => Promise<ForwardedAnswer>): Promise<Cancellable> {
    return this.serve(MessageKind.forwardedCommand, this.subjects.metadataPropagate(), async (data) => {
      let command: MetadataCommand;
      try {
        command = decodeForwardedCommand(data);
      } catch (error) {
        this.drops.drop(MessageKind.forwardedCommand, 'malformed', 'dropping malformed forwarded command', { detail: errorDetail(error), bytes: data.length });
        return null;
      }
      return encodeForwardedAnswer(await handler(command));
    });
  }

  async requestJoin(serverId: string, timeoutMs: number): Promise<string> {
    const reply = await this.request(this.subjects.metadataJoin(), encodeJoinRequest(serverId), timeoutMs);
    return decodeJoinResponse(reply.data);
  }

  serveJoins(handler: (serverId: string) => Promise<string>): Promise<Cancellable> {
    return this.serve(MessageKind.join, this.subjects.metadataJoin(), async (data) => {
      let serverId: string;
      try {
        serverId = decodeJoinRequest(data);
      } catch (error) {
        this.drops.drop(MessageKind.join, 'malformed', 'dropping malformed join request', { detail: errorDetail(error), bytes: data.length });
        return null;
      }
      return encodeJoinResponse(await handler(serverId));
    });
  }

  announce(heartbeat: BrokerHeartbeat): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      this.nc.publish(this.subjects.heartbeats(), encodeHeartbeat(heartbeat));
    } catch (error) {
      this.logger.debug({ err: error }, 'heartbeat not sent');
    }
  }

  async close(): Promise<void> {
    for (const s of this.served) s.unsubscribe();
    this.served.clear();
    this.heartbeatSubscription.unsubscribe();
    this.beats.complete();
  }

  private request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Msg> {
    return requestOrUnavailable(this.nc, subject, data, timeoutMs, (reason) => new ControllerUnreachableError(reason));
  }

  /** Answers each request with what `answer` returns (null: no answer); registered on the server before resolving. */
  private async serve(kind: MessageKind, subject: string, answer: (data: Uint8Array) => Promise<Uint8Array | null>): Promise<Cancellable> {
    const subscription = await serveRequests(this.nc, subject, answer, {
      replyFailed: (cause) => this.drops.drop(kind, 'not-sent', 'control reply not sent', { subject, detail: errorDetail(cause) }),
      handlerFailed: (cause) => this.drops.drop(kind, 'handler-failed', 'control request handler failed', { subject, err: cause }, 'error'),
    });
    this.served.add(subscription);
    return {
      cancel: () => {
        this.served.delete(subscription);
        // Drained, not dropped: requests nats-server routed here before it saw the UNSUB are still
        // answered ("not the controller": the caller retries at once) instead of waiting out the
        // caller's whole timeout; later ones find no responder.
        subscription.drain().catch(() => undefined);
      },
    };
  }
}
