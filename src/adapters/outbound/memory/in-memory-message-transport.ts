import { Subject } from 'rxjs';
import {
  AckBatch,
  ackedNow,
  AckInbox,
  AckMessage,
  InboundMessage,
  Listener,
  MessageTransport,
  okAckOf,
  OutboundPublish,
} from '../../../application/ports/message-transport.port';
import { PayloadTooLargeError } from '../../../application/errors/broker-errors';
import { newRecordEntryBytes } from '../../codec/message-set-limits';

const entryBytesOf = (m: Pick<OutboundPublish, 'key' | 'value' | 'headers'>, subject: string, reply: string): number =>
  newRecordEntryBytes(m.key, m.value, m.headers, Buffer.byteLength(subject), Buffer.byteLength(reply));

interface Subscription {
  readonly pattern: string[];
  readonly group: string;
  readonly deliver: (subject: string, message: InboundMessage | AckMessage) => void;
  closed: boolean;
}

/** NATS subject matching: `*` matches one token, `>` the rest. */
export function subjectMatches(pattern: readonly string[], subject: string): boolean {
  const tokens = subject.split('.');
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '>') return tokens.length > i;
    if (i >= tokens.length || (p !== '*' && p !== tokens[i])) return false;
  }
  return tokens.length === pattern.length;
}

/**
 * An in-process stand-in for NATS client traffic with the semantics the broker relies on:
 * wildcards, fan-out to every subscription, one member per queue group, asynchronous delivery
 * in publish order. Used by application unit tests and the simulator; never by the product.
 */
export class InMemoryMessageTransport implements MessageTransport {
  private readonly subscriptions: Subscription[] = [];
  private readonly groupCursor = new Map<string, number>();
  private inboxSequence = 0;

  constructor(private readonly namespace = 'liftbridge-default') {}

  async listen(subject: string, queueGroup: string, onMessage: (message: InboundMessage) => void): Promise<Listener> {
    const sub: Subscription = { pattern: subject.split('.'), group: queueGroup, deliver: (_s, m) => onMessage(m as InboundMessage), closed: false };
    this.subscriptions.push(sub);
    return { close: async () => this.remove(sub) };
  }

  /** What a plain NATS client publishing `message` on `subject` would cause (`entryBytes` computed as NATS ingest does). */
  publishInbound(subject: string, message: Omit<InboundMessage, 'subject' | 'entryBytes'>): void {
    this.route(subject, { ...message, subject, entryBytes: entryBytesOf(message, subject, message.reply) });
  }

  sendAck(ack: AckMessage): void {
    this.route(ack.ackInbox, ack);
  }

  sendAcks(batch: AckBatch): void {
    batch.messages.forEach((m, i) => {
      if (ackedNow(batch, m)) this.sendAck(okAckOf(batch, i));
    });
  }

  publish(subject: string, message: OutboundPublish, entryBytesMax: number): void {
    const entryBytes = entryBytesOf(message, subject, '');
    if (entryBytes > entryBytesMax) throw new PayloadTooLargeError(entryBytes, entryBytesMax);
    this.route(subject, {
      key: message.key,
      value: message.value,
      headers: message.headers,
      subject,
      reply: '',
      ackInbox: message.ackInbox,
      correlationId: message.correlationId,
      ackPolicy: message.ackPolicy,
      expectedOffset: message.expectedOffset,
      entryBytes,
    });
  }

  async openAckInbox(subject?: string): Promise<AckInbox> {
    const inbox = subject ?? `${this.namespace}.ack.${++this.inboxSequence}`;
    const acks = new Subject<AckMessage>();
    const sub: Subscription = { pattern: inbox.split('.'), group: '', deliver: (_s, m) => acks.next(m as AckMessage), closed: false };
    this.subscriptions.push(sub);
    return {
      subject: inbox,
      acks$: acks.asObservable(),
      close: () => {
        this.remove(sub);
        acks.complete();
      },
    };
  }

  async flush(): Promise<void> {
    await Promise.resolve();
  }

  private route(subject: string, message: InboundMessage | AckMessage): void {
    const targets: Subscription[] = [];
    const groups = new Map<string, Subscription[]>();
    for (const sub of this.subscriptions) {
      if (!subjectMatches(sub.pattern, subject)) continue;
      if (sub.group === '') targets.push(sub);
      else groups.set(sub.group, [...(groups.get(sub.group) ?? []), sub]);
    }
    for (const [group, members] of groups) {
      const cursor = this.groupCursor.get(group) ?? 0;
      this.groupCursor.set(group, cursor + 1);
      targets.push(members[cursor % members.length]!);
    }
    queueMicrotask(() => {
      for (const t of targets) if (!t.closed) t.deliver(subject, message);
    });
  }

  private remove(sub: Subscription): void {
    sub.closed = true;
    const i = this.subscriptions.indexOf(sub);
    if (i >= 0) this.subscriptions.splice(i, 1);
  }
}
