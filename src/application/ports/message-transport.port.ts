import { Observable } from 'rxjs';

import { AckError, AckPolicy } from '../../domain/shared/wire-enums';

export { AckError, AckPolicy };

/** A message that arrived on a partition subject, decoded from the publish envelope or raw. */
export interface InboundMessage {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  readonly subject: string;
  readonly reply: string;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  /** Optimistic concurrency: -1 = no check. */
  readonly expectedOffset: number;
  /**
   * Bytes of the entry the leader would store for it (28-byte entry header + encoded message with
   * the server headers `subject` and `reply`, docs/storage.md), computed by the transport as it
   * decodes; larger than any limit (Number.MAX_SAFE_INTEGER) when the storage format cannot hold a
   * field (a header name over 32,767 bytes, too many headers). The leader compares it with the
   * replication limit (docs/replication.md "Message size"): one integer compare per message.
   */
  readonly entryBytes: number;
}

/** The Ack the partition leader sends to an AckInbox (docs/protocol.md "Ack"). */
export interface AckMessage {
  readonly stream: string;
  readonly partitionSubject: string;
  readonly msgSubject: string;
  readonly offset: number;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  readonly receptionTimestampNs: bigint;
  /** 0n = not set (TOO_LARGE nacks). */
  readonly commitTimestampNs: bigint;
  readonly ackError: AckError;
}

/**
 * The OK acks of one append, sent together: `messages[i]` got offset `firstOffset + i`. Messages
 * without an AckInbox or with policy NONE get none. One call per batch keeps the hot path free of
 * per-message objects.
 */
export interface AckBatch {
  readonly stream: string;
  readonly partitionSubject: string;
  readonly firstOffset: number;
  readonly receptionTimestampNs: bigint;
  readonly commitTimestampNs: bigint;
  readonly messages: readonly InboundMessage[];
  /** Only messages with this policy are acked now (a replicated partition acks LEADER on append, ALL on commit). */
  readonly onlyPolicy?: AckPolicy;
}

/** Whether `m` of `batch` is acked now: it has an AckInbox, a policy other than NONE, and the batch's `onlyPolicy` if any. */
export const ackedNow = (batch: AckBatch, m: InboundMessage): boolean =>
  m.ackInbox !== '' && m.ackPolicy !== AckPolicy.NONE && (batch.onlyPolicy === undefined || m.ackPolicy === batch.onlyPolicy);

/** The OK ack of `batch.messages[i]`, as an AckMessage (offset `firstOffset + i`). */
export function okAckOf(batch: AckBatch, i: number): AckMessage {
  const m = batch.messages[i]!;
  return {
    stream: batch.stream,
    partitionSubject: batch.partitionSubject,
    msgSubject: m.subject,
    offset: batch.firstOffset + i,
    ackInbox: m.ackInbox,
    correlationId: m.correlationId,
    ackPolicy: m.ackPolicy,
    receptionTimestampNs: batch.receptionTimestampNs,
    commitTimestampNs: batch.commitTimestampNs,
    ackError: AckError.OK,
  };
}

/** A publish the server itself makes (Publish RPCs) in the Liftbridge envelope. */
export interface OutboundPublish {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  readonly expectedOffset: number;
}

export interface Listener {
  close(): Promise<void>;
}

export interface AckInbox {
  readonly subject: string;
  readonly acks$: Observable<AckMessage>;
  close(): void;
}

/** Client traffic over NATS: partition subjects in, acks out, server-side publishes (docs/protocol.md "Publishing over NATS"). */
export interface MessageTransport {
  /** Delivers every message published on `subject` (shared with `queueGroup` when non-empty). */
  listen(subject: string, queueGroup: string, onMessage: (message: InboundMessage) => void): Promise<Listener>;
  /** One ack (error acks: TOO_LARGE, INCORRECT_OFFSET, UNKNOWN when an append failed). */
  sendAck(ack: AckMessage): void;
  sendAcks(batch: AckBatch): void;
  /**
   * Throws PayloadTooLargeError when the encoded message exceeds what NATS accepts, or when the entry
   * the leader would store for it (see `InboundMessage.entryBytes`) is larger than `entryBytesMax`.
   */
  publish(subject: string, message: OutboundPublish, entryBytesMax: number): void;
  /** Subscribes `subject` (default: a fresh `<ns>.ack.<id>`) for acks before it is returned. */
  openAckInbox(subject?: string): Promise<AckInbox>;
  /** Waits until everything published so far reached the NATS server. */
  flush(): Promise<void>;
}
