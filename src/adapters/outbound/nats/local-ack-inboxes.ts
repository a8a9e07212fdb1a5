import { Subject } from 'rxjs';
import { AckBatch, AckMessage, ackedNow, InboundMessage, okAckOf } from '../../../application/ports/message-transport.port';

/**
 * The ack inboxes of this server's own Publish RPCs (`<ns>.ack.<transport id>.<n>`), and the
 * shortcut for their acks: when this server also leads the partition, the ack goes straight to the
 * waiting call instead of out to NATS and back (one nats-server round trip less on the unary
 * Publish path, docs/architecture.md "Three paths, file by file"). Nobody else listens on these
 * inboxes, so nothing can tell the difference; acks from other servers still arrive over NATS.
 */
export class LocalAckInboxes {
  private readonly waiting = new Map<string, Subject<AckMessage>>();
  private sequence = 0;

  constructor(readonly prefix: string) {}

  /** A new inbox and the acks that will arrive on it; `close` forgets it. */
  open(): { subject: string; acks: Subject<AckMessage>; close(): void } {
    const subject = `${this.prefix}.${++this.sequence}`;
    const acks = new Subject<AckMessage>();
    this.waiting.set(subject, acks);
    return {
      subject,
      acks,
      close: () => {
        this.waiting.delete(subject);
        acks.complete();
      },
    };
  }

  /** The waiter of an inbox, if it is one of ours and still open. */
  get(inbox: string): Subject<AckMessage> | undefined {
    return this.waiting.get(inbox);
  }

  /**
   * Delivers the acks of `batch` that go to our own inboxes and returns the batch for NATS without
   * them (their inbox blanked, so every other message keeps its index and offset), or null when
   * none is left. The common case, no Publish RPC waiting, costs one size check.
   */
  deliverFrom(batch: AckBatch): AckBatch | null {
    if (this.waiting.size === 0) return batch;
    const { messages } = batch;
    let remaining: InboundMessage[] | null = null;
    let remote = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (!ackedNow(batch, m)) continue;
      const target = this.waiting.get(m.ackInbox);
      if (target === undefined) {
        remote++;
        continue;
      }
      remaining ??= messages.slice();
      remaining[i] = { ...m, ackInbox: '' };
      target.next(okAckOf(batch, i));
    }
    if (remaining === null) return batch;
    return remote === 0 ? null : { ...batch, messages: remaining };
  }
}
