import { Msg, NatsConnection, Subscription } from 'nats';
import { Observable, Subject } from 'rxjs';
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
import { requestOrUnavailable, serveRequests } from './request-reply';
import { Subjects } from './subjects';

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

/** Log the first failure of each kind, then one in this many (a hostile peer must not flood the log). */
const LOG_EVERY = 1000;
/** Failed publishes are our own replies going missing: logged by time, at most once per this long. */
const PUBLISH_FAILURE_LOG_INTERVAL_MS = 10_000;
/** NATS's default `max_payload`, assumed until the connection has the server's INFO. */
const NATS_DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const detail = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * `ReplicationTransport` over NATS (spec §3.5, §5.6-5.7), wire-compatible with Liftbridge:
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
  private publishFailureLoggedAtMs = Number.NEGATIVE_INFINITY;
  private publishFailuresUnlogged = 0;
  readonly notifications$: Observable<PartitionRef> = this.notifications.asObservable();

  constructor(
    private readonly nc: NatsConnection,
    namespace: string,
    private readonly serverId: string,
    private readonly logger: Logger,
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
        this.countMalformedRequest(ref, 'replication request', error);
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
        this.countMalformedRequest(ref, 'leader epoch offset request', error);
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
      this.countPublishFailure({ followerId, stream: ref.stream, partition: ref.partition }, 'partition notification not sent', error);
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
        replyFailed: (cause, bytes) => this.countPublishFailure({ subject, bytes }, 'replication reply not sent', cause),
        handlerFailed: (cause) => {
          if (this.counters.handlerFailures++ % LOG_EVERY === 0) {
            this.logger.error({ err: cause, stream: ref.stream, partition: ref.partition, subject, total: this.counters.handlerFailures }, 'replication request handler failed');
          }
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
      if (this.counters.malformedNotifications++ % LOG_EVERY === 0) {
        this.logger.warn({ detail: detail(decodeError), total: this.counters.malformedNotifications }, 'dropping malformed partition notification');
      }
      return;
    }
    this.notifications.next(ref);
  }

  private countMalformedRequest(ref: PartitionRef, what: string, error: unknown): void {
    if (this.counters.malformedRequests++ % LOG_EVERY === 0) {
      this.logger.warn({ stream: ref.stream, partition: ref.partition, detail: detail(error), total: this.counters.malformedRequests }, `dropping malformed ${what}`);
    }
  }

  /** A reply we cannot read is, for the follower, no reply: it retries later (logged, rate-limited). */
  private malformedReply(ref: PartitionRef, error: unknown): ReplicationUnavailableError {
    if (this.counters.malformedReplies++ % LOG_EVERY === 0) {
      this.logger.warn({ stream: ref.stream, partition: ref.partition, detail: detail(error), total: this.counters.malformedReplies }, 'malformed replication reply');
    }
    return new ReplicationUnavailableError(`malformed reply: ${detail(error)}`);
  }

  private countPublishFailure(fields: Record<string, unknown>, message: string, error: unknown): void {
    this.counters.publishFailures++;
    this.onPublishFailure();
    const now = Date.now();
    if (now - this.publishFailureLoggedAtMs < PUBLISH_FAILURE_LOG_INTERVAL_MS) {
      this.publishFailuresUnlogged++;
      return;
    }
    this.logger.warn({ ...fields, detail: detail(error), total: this.counters.publishFailures, notLoggedSinceLast: this.publishFailuresUnlogged }, message);
    this.publishFailureLoggedAtMs = now;
    this.publishFailuresUnlogged = 0;
  }
}
