import { Msg, NatsConnection, nuid } from 'nats';
import { Subject } from 'rxjs';
import { Logger } from '../../../application/ports/logger.port';
import {
  AckBatch,
  AckInbox,
  AckMessage,
  AckPolicy,
  InboundMessage,
  Listener,
  MessageTransport,
  OutboundPublish,
} from '../../../application/ports/message-transport.port';
import { PayloadTooLargeError } from '../../../application/errors/broker-errors';
import { AckPublishes, encodeAckBatch, encodeAckBatchAsPublishes } from '../../codec/ack-batch-codec';
import { decodeAckEnvelope, encodeAckEnvelope } from '../../../protocol/ack-codec';
import { MsgType, parseEnvelope } from '../../../protocol/envelope';
import { NEW_RECORD_ENTRY_MIN_BYTES, newRecordEntryBytes } from '../../codec/message-set-limits';
import { decodePublishMessage, encodePublishEnvelope, RepeatedUtf8Decoder } from '../../../protocol/publish-message-codec';
import { LocalAckInboxes } from './local-ack-inboxes';
import { RawPublisher, rawPublisher } from './nats-raw-publish';
import { Subjects } from './subjects';

/** Per-subscription decoding state: what repeats from one message to the next is decoded or checked once. */
interface ListenerContext {
  /** The subscription's subject when it has no wildcards (then every message has it). */
  readonly literalSubject: string | null;
  /** Its UTF-8 length, for the stored entry's size. */
  readonly literalSubjectBytes: number;
  readonly inboxes: RepeatedUtf8Decoder;
  /** The last ack inbox that passed `acceptAckInbox` (a refused one is checked again each time). */
  acceptedInbox: string | null;
}

/** Marks an `outgoing` entry whose second slot is ready-made PUB commands (no real subject is empty). */
const RAW_COMMANDS = '';

/** Counters for what the transport refused; exposed for logs now and metrics later. */
export interface TransportCounters {
  malformedEnvelopes: number;
  rejectedAckInboxes: number;
}

/**
 * Client traffic over NATS (docs/protocol.md "Publishing over NATS"): partition subjects in (envelope or raw payload), acks out,
 * server-side publishes. Runs on two connections so that a flood of ingest never queues behind acks.
 */
export class NatsMessageTransport implements MessageTransport {
  readonly counters: TransportCounters = { malformedEnvelopes: 0, rejectedAckInboxes: 0 };
  private readonly subjects: Subjects;
  /**
   * Outgoing publishes wait for the end of the event-loop turn and go out together: nats.js writes
   * to its socket once per microtask checkpoint, so publishes made from separate promise callbacks
   * would otherwise each cost a syscall. Flat array of (subject, payload) pairs, or
   * (RAW_COMMANDS, acks encoded as PUB commands).
   */
  private outgoing: (string | Uint8Array | AckPublishes)[] = [];
  /** Writes the acks of one append as one buffer of PUB commands (null: nats.js internals differ). */
  private readonly raw: RawPublisher | null;
  private readonly sharedInboxes: LocalAckInboxes;
  private sharedReady: Promise<void> | null = null;
  private outgoingScheduled = false;
  /** The flush (PING/PONG) of the ingest connection under way, and the one queued behind it. */
  private subscribeFlush: { inFlight: Promise<void>; queued: Promise<void> | null } | null = null;

  constructor(
    private readonly streams: NatsConnection,
    private readonly publishes: NatsConnection,
    namespace: string,
    private readonly logger: Logger,
  ) {
    this.subjects = new Subjects(namespace);
    this.sharedInboxes = new LocalAckInboxes(this.subjects.ackInbox(nuid.next()));
    this.raw = rawPublisher(publishes);
  }

  async listen(subject: string, queueGroup: string, onMessage: (message: InboundMessage) => void): Promise<Listener> {
    const literalSubject = subject.includes('*') || subject.includes('>') ? null : subject;
    const context: ListenerContext = {
      // Every message on a subscription without wildcards has exactly its subject: no decode per message.
      literalSubject,
      literalSubjectBytes: literalSubject === null ? 0 : Buffer.byteLength(literalSubject),
      inboxes: new RepeatedUtf8Decoder(),
      acceptedInbox: null,
    };
    const handle = (error: Error | null, msg: Msg): void => {
      if (error) {
        this.logger.warn({ err: error, subject }, 'partition subscription error');
        return;
      }
      const message = this.decodeInbound(msg, context);
      if (message) onMessage(message);
    };
    const sub = this.streams.subscribe(subject, queueGroup === '' ? { callback: handle } : { queue: queueGroup, callback: handle });
    // The subscription is live on the server before the partition counts as started.
    await this.subscriptionsFlushed();
    return {
      close: async () => {
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  }

  /**
   * Resolves once the server has every subscription made before the call. Listens share flushes: one
   * that comes while a flush is under way (its PING may have left before this SUB) waits for the
   * next one, which serves every listen that came meanwhile. A restart subscribes thousands of
   * partitions, 32 at a time: one round trip per round instead of one per partition.
   */
  private subscriptionsFlushed(): Promise<void> {
    const current = this.subscribeFlush;
    if (current === null) {
      const state = { inFlight: Promise.resolve(), queued: null as Promise<void> | null };
      const done = (): void => {
        if (this.subscribeFlush === state && state.queued === null) this.subscribeFlush = null;
      };
      state.inFlight = this.streams.flush();
      state.inFlight.then(done, done);
      this.subscribeFlush = state;
      return state.inFlight;
    }
    current.queued ??= current.inFlight
      .catch(() => undefined)
      .then(() => {
        if (this.subscribeFlush === current) this.subscribeFlush = null;
        return this.subscriptionsFlushed();
      });
    return current.queued;
  }

  /**
   * Envelope → fields; no magic → the raw payload is the value (docs/protocol.md "Envelope", ingest rule). The size of
   * the entry the leader would store is computed here, where subject and reply lengths are at hand.
   */
  private decodeInbound(msg: Msg, context: ListenerContext): InboundMessage | null {
    const data = msg.data;
    const reply = msg.reply ?? '';
    const subject = context.literalSubject ?? msg.subject;
    const otherBytes = (context.literalSubject === null ? Buffer.byteLength(subject) : context.literalSubjectBytes) + (reply === '' ? 0 : Buffer.byteLength(reply));
    const parsed = parseEnvelope(data, MsgType.Publish);
    if (parsed.kind === 'not-an-envelope') {
      return {
        key: null,
        value: data,
        headers: null,
        subject,
        reply,
        ackInbox: '',
        correlationId: '',
        ackPolicy: AckPolicy.NONE,
        expectedOffset: -1, // docs/compatibility.md "Go quirks" #14: no envelope means no concurrency check
        // No key or headers, and a NATS payload (64 MB at most) is always within the format's 100 MiB.
        entryBytes: NEW_RECORD_ENTRY_MIN_BYTES + data.length + otherBytes,
      };
    }
    if (parsed.kind === 'malformed') return this.dropMalformed(subject, parsed.detail);
    try {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const m = decodePublishMessage(buf, parsed.payloadStart, parsed.payloadEnd, context.inboxes);
      let ackInbox = m.ackInbox;
      if (ackInbox !== '' && ackInbox !== context.acceptedInbox) {
        if (this.acceptAckInbox(ackInbox)) context.acceptedInbox = ackInbox;
        else ackInbox = '';
      }
      return {
        key: m.key,
        value: m.value,
        headers: m.headers,
        subject,
        reply,
        ackInbox,
        correlationId: m.correlationId,
        ackPolicy: m.ackPolicy,
        expectedOffset: m.expectedOffset,
        entryBytes: newRecordEntryBytes(m.key, m.value, m.headers, otherBytes, 0),
      };
    } catch (error) {
      return this.dropMalformed(subject, error instanceof Error ? error.message : String(error));
    }
  }

  private dropMalformed(subject: string, detail: string): null {
    // Right magic, wrong everything else: refuse and count rather than store garbage (docs/reliability.md "Bad inputs", B2-B6).
    if (this.counters.malformedEnvelopes++ % 1000 === 0) {
      this.logger.warn({ subject, detail, total: this.counters.malformedEnvelopes }, 'dropping malformed Liftbridge envelope');
    }
    return null;
  }

  private acceptAckInbox(inbox: string): boolean {
    if (this.subjects.isAcceptableAckInbox(inbox)) return true;
    if (this.counters.rejectedAckInboxes++ % 1000 === 0) this.logger.warn({ inbox }, 'refusing to send acks to this inbox');
    return false;
  }

  private enqueue(subject: string, payload: Uint8Array | AckPublishes): void {
    this.outgoing.push(subject, payload);
    if (!this.outgoingScheduled) {
      this.outgoingScheduled = true;
      setImmediate(this.flushOutgoing);
    }
  }

  private readonly flushOutgoing = (): void => {
    this.outgoingScheduled = false;
    const batch = this.outgoing;
    this.outgoing = [];
    if (this.publishes.isClosed()) return;
    for (let i = 0; i < batch.length; i += 2) {
      const subject = batch[i] as string;
      if (subject !== RAW_COMMANDS) {
        this.publishes.publish(subject, batch[i + 1] as Uint8Array);
        continue;
      }
      const acks = batch[i + 1] as AckPublishes;
      this.raw!.send(acks.bytes, acks.messages, acks.payloadBytes);
    }
  };

  sendAck(ack: AckMessage): void {
    const local = this.sharedInboxes.get(ack.ackInbox);
    if (local !== undefined) return local.next(ack);
    this.enqueue(
      ack.ackInbox,
      encodeAckEnvelope({
        stream: ack.stream,
        partitionSubject: ack.partitionSubject,
        msgSubject: ack.msgSubject,
        offset: ack.offset,
        ackInbox: ack.ackInbox,
        correlationId: ack.correlationId,
        ackPolicy: ack.ackPolicy,
        receptionTimestamp: ack.receptionTimestampNs,
        commitTimestamp: ack.commitTimestampNs,
        ackError: ack.ackError,
      }),
    );
  }

  sendAcks(all: AckBatch): void {
    const batch = this.sharedInboxes.deliverFrom(all);
    if (batch === null) return;
    if (this.raw === null) {
      encodeAckBatch(batch, this.enqueueBound);
      return;
    }
    const acks = encodeAckBatchAsPublishes(batch);
    if (acks !== null) this.enqueue(RAW_COMMANDS, acks);
  }

  private readonly enqueueBound = (subject: string, payload: Uint8Array): void => this.enqueue(subject, payload);

  publish(subject: string, message: OutboundPublish, entryBytesMax: number): void {
    // What the leader would store: NATS subject as the `subject` header, no reply subject.
    const entryBytes = newRecordEntryBytes(message.key, message.value, message.headers, Buffer.byteLength(subject), 0);
    if (entryBytes > entryBytesMax) throw new PayloadTooLargeError(entryBytes, entryBytesMax);
    const envelope = encodePublishEnvelope({
      key: message.key,
      value: message.value,
      headers: message.headers,
      ackInbox: message.ackInbox,
      correlationId: message.correlationId,
      ackPolicy: message.ackPolicy,
      expectedOffset: message.expectedOffset,
    });
    const max = this.publishes.info?.max_payload ?? Number.MAX_SAFE_INTEGER;
    if (envelope.length > max) throw new PayloadTooLargeError(envelope.length, max);
    this.enqueue(subject, envelope);
  }

  /**
   * Server-generated inboxes are `<ns>.ack.<transport id>.<n>`, all served by one wildcard
   * subscription made once: opening one costs no NATS round trip (Go subscribes and flushes per
   * request). An inbox the client chose gets a subscription of its own.
   */
  async openAckInbox(subject?: string): Promise<AckInbox> {
    if (subject === undefined) {
      await this.ensureSharedInboxes();
      const inbox = this.sharedInboxes.open();
      return { subject: inbox.subject, acks$: inbox.acks.asObservable(), close: inbox.close };
    }
    const acks = new Subject<AckMessage>();
    const sub = this.publishes.subscribe(subject, {
      callback: (error, msg) => {
        if (!error) this.deliverAck(acks, msg.data, subject);
      },
    });
    await this.publishes.flush();
    return {
      subject,
      acks$: acks.asObservable(),
      close: () => {
        if (!sub.isClosed()) sub.unsubscribe();
        acks.complete();
      },
    };
  }

  private ensureSharedInboxes(): Promise<void> {
    this.sharedReady ??= (async () => {
      this.publishes.subscribe(`${this.sharedInboxes.prefix}.*`, {
        callback: (error, msg) => {
          const target = error ? undefined : this.sharedInboxes.get(msg.subject);
          if (target) this.deliverAck(target, msg.data, msg.subject);
        },
      });
      await this.publishes.flush();
    })();
    return this.sharedReady;
  }

  private deliverAck(target: Subject<AckMessage>, data: Uint8Array, inbox: string): void {
    try {
      const a = decodeAckEnvelope(data);
      target.next({
        stream: a.stream,
        partitionSubject: a.partitionSubject,
        msgSubject: a.msgSubject,
        offset: Number(a.offset),
        ackInbox: a.ackInbox,
        correlationId: a.correlationId,
        ackPolicy: a.ackPolicy,
        receptionTimestampNs: a.receptionTimestamp,
        commitTimestampNs: a.commitTimestamp,
        ackError: a.ackError,
      });
    } catch (decodeError) {
      this.logger.debug({ err: decodeError, inbox }, 'ignoring a message on an ack inbox that is not an ack');
    }
  }

  async flush(): Promise<void> {
    this.flushOutgoing();
    await this.publishes.flush();
  }
}
