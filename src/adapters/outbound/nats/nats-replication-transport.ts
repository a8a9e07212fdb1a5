import { Msg, Subscription } from 'nats';
import { Observable, Subject } from 'rxjs';
import { DroppedMessageLog, errorDetail } from '../../../application/diagnostics/dropped-message-log';
import type { Cancellable } from '../../../application/ports/clock.port';
import type { Logger } from '../../../application/ports/logger.port';
import { EpochEnd, EpochEndRequest, ReplicationFetch, ReplicationReply, ReplicationTransport, ReplicationUnavailableError } from '../../../application/ports/replication-transport.port';
import type { PartitionRef } from '../../../domain/shared/ids';
import {
  decodeLeaderEpochOffsetRequest,
  decodeLeaderEpochOffsetResponse,
  decodePartitionNotification,
  decodeReplicationRequest,
  decodeReplicationResponse,
  encodeLeaderEpochOffsetRequest,
  encodeLeaderEpochOffsetResponse,
  encodePartitionNotification,
  encodeReplicationRequest,
  encodeReplicationResponse,
} from '../../codec/replication-codec';
import { InternalNatsConnection, loggingOnlyDropLog } from './internal-connection';
import { requestOrUnavailable, serveRequests } from './request-reply';
import { MessageKind, Subjects } from './subjects';

/** What the transport dropped; exposed for logs now and metrics later. */
export interface ReplicationTransportCounters {
  /** Inbound fetch or end-offset requests that did not decode (dropped, never answered). */
  malformedRequests: number;
  /** Replies that did not decode (the request then rejects with ReplicationUnavailableError). */
  malformedReplies: number;
  /** Inbound notifications that did not decode. */
  malformedNotifications: number;
  /** Handlers that threw or rejected (the request is left unanswered, so the follower times out). */
  handlerFailures: number;
  /** Replies or notifications the NATS client refused (closed connection, payload too large). */
  publishFailures: number;
}

/** NATS's default `max_payload`, assumed until the connection has the server's INFO. */
const NATS_DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * `ReplicationTransport` over NATS (docs/protocol.md "Subjects"; docs/replication.md "The protocol step by step"), wire-compatible with Liftbridge:
 * fetches are requests on `<ns>.<stream>.<p>.replicate`, end offsets on `<ns>.<stream>.<p>.offset`,
 * notifications fire-and-forget publishes on `<ns>.notify.<serverId>`, to which the constructor
 * subscribes for this server. Inbound bytes that do not decode are dropped and counted, never
 * thrown; a handler that returns null (or fails) leaves the request unanswered, which the follower
 * sees as a timeout. The connection is borrowed: `close()` unsubscribes but does not close it.
 */
export class NatsReplicationTransport implements ReplicationTransport {
  readonly counters: ReplicationTransportCounters = {
    malformedRequests: 0,
    malformedReplies: 0,
    malformedNotifications: 0,
    handlerFailures: 0,
    publishFailures: 0,
  };
  private readonly subjects: Subjects;
  private readonly notifications = new Subject<PartitionRef>();
  private readonly notificationSubscription: Subscription;
  private readonly served = new Set<Subscription>();
  private closed = false;
  readonly notifications$: Observable<PartitionRef> = this.notifications.asObservable();

  constructor(
    private readonly nc: InternalNatsConnection,
    namespace: string,
    private readonly serverId: string,
    private readonly logger: Logger,
    /** Counts drops and rate-limits their log lines (a hostile peer must not flood the log). */
    private readonly drops: DroppedMessageLog = loggingOnlyDropLog(logger),
    /** Called on every reply or notification the client refused (a metric). */
    private readonly onPublishFailure: () => void = () => undefined,
  ) {
    this.subjects = new Subjects(namespace);
    this.notificationSubscription = nc.subscribe(this.subjects.notify(serverId), {
      callback: (error, msg) => this.onNotification(error, msg),
    });
  }

  /** The server's `max_payload` as of its latest INFO (it can change after a reconnect to another server). */
  get payloadBytesMax(): number {
    return this.nc.info?.max_payload ?? NATS_DEFAULT_MAX_PAYLOAD_BYTES;
  }

  async fetch(ref: PartitionRef, request: ReplicationFetch, timeoutMs: number): Promise<ReplicationReply> {
    const reply = await this.request(this.subjects.replicate(ref), encodeReplicationRequest(request), timeoutMs);
    try {
      return decodeReplicationResponse(reply.data);
    } catch (error) {
      throw this.malformedReply(ref, error);
    }
  }

  serveFetches(ref: PartitionRef, handler: (request: ReplicationFetch) => Promise<ReplicationReply | null>): Promise<Cancellable> {
    return this.serve(ref, this.subjects.replicate(ref), async (data) => {
      let request: ReplicationFetch;
      try {
        request = decodeReplicationRequest(data);
      } catch (error) {
        this.countMalformedRequest(ref, MessageKind.replicationRequest, 'replication request', error);
        return null;
      }
      const reply = await handler(request);
      return reply === null ? null : encodeReplicationResponse(reply);
    });
  }

  async leaderEpochEndOffset(ref: PartitionRef, request: EpochEndRequest, timeoutMs: number): Promise<EpochEnd> {
    const reply = await this.request(this.subjects.leaderEpochOffset(ref), encodeLeaderEpochOffsetRequest(request), timeoutMs);
    try {
      return decodeLeaderEpochOffsetResponse(reply.data);
    } catch (error) {
      throw this.malformedReply(ref, error);
    }
  }

  serveLeaderEpochEndOffsets(ref: PartitionRef, handler: (request: EpochEndRequest) => EpochEnd | null): Promise<Cancellable> {
    return this.serve(ref, this.subjects.leaderEpochOffset(ref), async (data) => {
      let request: EpochEndRequest;
      try {
        request = decodeLeaderEpochOffsetRequest(data);
      } catch (error) {
        this.countMalformedRequest(ref, MessageKind.epochOffsetRequest, 'leader epoch offset request', error);
        return null;
      }
      const answer = handler(request);
      return answer === null ? null : encodeLeaderEpochOffsetResponse(answer);
    });
  }

  notify(followerId: string, ref: PartitionRef): void {
    if (this.closed || this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      this.nc.publish(this.subjects.notify(followerId), encodePartitionNotification(ref));
    } catch (error) {
      this.countPublishFailure(MessageKind.notification, { followerId, stream: ref.stream, partition: ref.partition }, 'partition notification not sent', error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.served) subscription.unsubscribe();
    this.served.clear();
    if (!this.notificationSubscription.isClosed()) this.notificationSubscription.unsubscribe();
    this.notifications.complete();
  }

  private request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Msg> {
    if (this.closed) return Promise.reject(new ReplicationUnavailableError('replication transport is closed'));
    return requestOrUnavailable(this.nc, subject, data, timeoutMs, (reason) => new ReplicationUnavailableError(reason));
  }

  /** Answers each request on `subject` (null from `answer`: no answer); registered on the server before resolving. */
  private async serve(ref: PartitionRef, subject: string, answer: (data: Uint8Array) => Promise<Uint8Array | null>): Promise<Cancellable> {
    if (this.closed) throw new Error('replication transport is closed');
    const subscription = await serveRequests(
      this.nc,
      subject,
      answer,
      {
        replyFailed: (cause, bytes) => this.countPublishFailure(MessageKind.reply, { subject, bytes }, 'replication reply not sent', cause),
        handlerFailed: (cause) => {
          this.counters.handlerFailures++;
          this.drops.drop(this.subjects.kindOf(subject), 'handler-failed', 'replication request handler failed', { err: cause, stream: ref.stream, partition: ref.partition, subject }, 'error');
        },
      },
      () => !this.closed,
    );
    this.served.add(subscription);
    return {
      cancel: () => {
        this.served.delete(subscription);
        if (!subscription.isClosed()) subscription.unsubscribe();
      },
    };
  }

  private onNotification(error: Error | null, msg: Msg): void {
    if (this.closed) return;
    if (error) {
      this.logger.warn({ err: error, serverId: this.serverId }, 'partition notification subscription error');
      return;
    }
    let ref: PartitionRef;
    try {
      ref = decodePartitionNotification(msg.data);
    } catch (decodeError) {
      this.counters.malformedNotifications++;
      this.drops.drop(MessageKind.notification, 'malformed', 'dropping malformed partition notification', { detail: errorDetail(decodeError) });
      return;
    }
    this.notifications.next(ref);
  }

  private countMalformedRequest(ref: PartitionRef, kind: MessageKind, what: string, error: unknown): void {
    this.counters.malformedRequests++;
    this.drops.drop(kind, 'malformed', `dropping malformed ${what}`, { stream: ref.stream, partition: ref.partition, detail: errorDetail(error) });
  }

  /** A reply we cannot read is, for the follower, no reply: it retries later (logged, rate-limited). */
  private malformedReply(ref: PartitionRef, error: unknown): ReplicationUnavailableError {
    this.counters.malformedReplies++;
    this.drops.drop(MessageKind.reply, 'malformed', 'malformed replication reply', { stream: ref.stream, partition: ref.partition, detail: errorDetail(error) });
    return new ReplicationUnavailableError(`malformed reply: ${errorDetail(error)}`);
  }

  private countPublishFailure(kind: MessageKind, fields: Record<string, unknown>, message: string, error: unknown): void {
    this.counters.publishFailures++;
    this.drops.drop(kind, 'not-sent', message, { ...fields, detail: errorDetail(error) });
    this.onPublishFailure();
  }
}
