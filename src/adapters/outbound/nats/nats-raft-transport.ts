import { Msg, Subscription } from 'nats';
import { Observable, Subject } from 'rxjs';
import { DroppedMessageLog, errorDetail } from '../../../application/diagnostics/dropped-message-log';
import type { Logger } from '../../../application/ports/logger.port';
import type { RaftTransport } from '../../../application/ports/raft-transport.port';
import type { RaftMessage } from '../../../domain/consensus/raft';
import { decodeRaftMessage, encodeRaftMessage } from '../../codec/raft-message-codec';
import { InternalNatsConnection, loggingOnlyDropLog } from './internal-connection';
import { MessageKind, Subjects } from './subjects';

/** What the transport dropped; exposed for logs now and metrics later. */
export interface RaftTransportCounters {
  /** Inbound messages that did not decode (bad envelope, CRC, JSON or fields). */
  decodeFailures: number;
  /** Outbound messages larger than the connection's max payload (e.g. an oversized snapshot). */
  oversizedDropped: number;
  /** Outbound messages the NATS client refused (connection closed or draining). */
  publishFailures: number;
  /** Inbound messages addressed to another server (should not happen: one subject per server). */
  misaddressed: number;
}

/**
 * Raft over NATS (docs/style.md "Transport", docs/raft.md "Transport"): one subject per server (`Subjects.raftInbox`), a fire-and-forget
 * publish of each encoded message to its destination's subject, one subscription on our own
 * subject exposed as `inbound$`. Raft tolerates loss, so anything that cannot be delivered or
 * decoded is dropped and counted (`DroppedMessageLog`: a counter per drop, rate-limited log lines);
 * a message to a server nobody listens for is simply lost. Whether metadata snapshots fit the max
 * payload is the caller's assertion; here an oversized message is dropped, counted and logged.
 */
export class NatsRaftTransport implements RaftTransport {
  readonly counters: RaftTransportCounters = { decodeFailures: 0, oversizedDropped: 0, publishFailures: 0, misaddressed: 0 };
  private readonly subjects: Subjects;
  private readonly inbound = new Subject<RaftMessage>();
  private readonly subscription: Subscription;
  private closed = false;
  readonly inbound$: Observable<RaftMessage> = this.inbound.asObservable();

  constructor(
    private readonly nc: InternalNatsConnection,
    subjects: Subjects | string,
    private readonly serverId: string,
    private readonly logger: Logger,
    private readonly drops: DroppedMessageLog = loggingOnlyDropLog(logger),
  ) {
    this.subjects = typeof subjects === 'string' ? new Subjects(subjects) : subjects;
    const subject = this.subjects.raftInbox(serverId);
    this.subscription = nc.subscribe(subject, { callback: (error, msg) => this.onMessage(error, msg) });
  }

  /** Resolves once the subscription is registered on the server (messages sent after it will arrive). */
  async ready(): Promise<void> {
    await this.nc.flush();
  }

  send(messages: readonly RaftMessage[]): void {
    if (this.closed) return;
    const max = this.nc.info?.max_payload ?? Number.MAX_SAFE_INTEGER;
    for (const message of messages) {
      const bytes = encodeRaftMessage(message);
      if (bytes.length > max) {
        this.counters.oversizedDropped++;
        this.drops.drop(
          MessageKind.raft,
          'oversized',
          'dropping raft message larger than the NATS max payload',
          { type: message.type, to: message.to, bytes: bytes.length, maxPayloadBytes: max },
          'error',
        );
        continue;
      }
      let subject: string;
      try {
        subject = this.subjects.raftInbox(message.to);
      } catch (error) {
        this.countPublishFailure(message, error);
        continue;
      }
      try {
        this.nc.publish(subject, bytes);
      } catch (error) {
        this.countPublishFailure(message, error);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.subscription.isClosed()) this.subscription.unsubscribe();
    this.inbound.complete();
  }

  private onMessage(error: Error | null, msg: Msg): void {
    if (this.closed) return;
    if (error) {
      this.logger.warn({ err: error, serverId: this.serverId }, 'raft subscription error');
      return;
    }
    let message: RaftMessage;
    try {
      message = decodeRaftMessage(msg.data);
    } catch (e) {
      this.counters.decodeFailures++;
      this.drops.drop(MessageKind.raft, 'malformed', 'dropping undecodable raft message', { detail: errorDetail(e), bytes: msg.data.length });
      return;
    }
    if (message.to !== this.serverId) {
      this.counters.misaddressed++;
      this.drops.drop(MessageKind.raft, 'misaddressed', 'dropping raft message addressed to another server', { type: message.type });
      return;
    }
    this.inbound.next(message);
  }

  private countPublishFailure(message: RaftMessage, error: unknown): void {
    this.counters.publishFailures++;
    this.drops.drop(MessageKind.raft, 'not-sent', 'dropping raft message that could not be published', {
      type: message.type,
      to: message.to,
      detail: errorDetail(error),
    });
  }
}
