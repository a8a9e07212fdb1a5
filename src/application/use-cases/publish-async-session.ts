import { Subscription } from 'rxjs';
import { ok, Result } from '../../domain/shared/result';
import { ApplicationError } from '../errors/application-errors';
import { Scheduler } from '../ports/clock.port';
import { AckError, AckInbox, AckMessage, AckPolicy, MessageTransport } from '../ports/message-transport.port';
import { PublishHandler, PublishRequestData } from './publish';

/** The nack the leader would have sent for a message above the size limit (docs/replication.md "The protocol step by step"). */
const tooLargeAck = (request: PublishRequestData, subject: string, inbox: string): AckMessage => ({
  stream: request.stream,
  partitionSubject: subject,
  msgSubject: subject,
  offset: 0,
  ackInbox: inbox,
  correlationId: request.correlationId,
  ackPolicy: request.ackPolicy,
  receptionTimestampNs: 0n,
  commitTimestampNs: 0n,
  ackError: AckError.TOO_LARGE,
});

export type PublishAsyncResponse =
  | { readonly kind: 'ack'; readonly ack: AckMessage }
  | { readonly kind: 'error'; readonly correlationId: string; readonly error: ApplicationError };

/** docs/protocol.md "PublishAsync": after the client half-closes, wait this long for acks still in flight. */
export const DRAIN_WAIT_MS = 5000;

/**
 * One PublishAsync stream: its own ack inbox, subscribed before any request is read; requests are
 * published in arrival order; acks are relayed as they come (OK acks as acks, error acks and
 * refused requests as errors carrying the correlation id). The stream stays open after errors.
 */
export class PublishAsyncSession {
  private inbox: AckInbox | null = null;
  private subscription: Subscription | null = null;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Requests queued behind one that waits for a resume. */
  private waiting = 0;

  constructor(
    private readonly publisher: PublishHandler,
    private readonly transport: MessageTransport,
    private readonly scheduler: Scheduler,
    private readonly respond: (response: PublishAsyncResponse) => void,
  ) {}

  async open(): Promise<void> {
    this.inbox = await this.transport.openAckInbox();
    this.subscription = this.inbox.acks$.subscribe((ack) => this.onAck(ack));
  }

  /**
   * Requests are handled strictly in order. The common case (partition not paused) is handled
   * synchronously; once a request has to wait for a resume, later ones queue behind it.
   */
  submit(request: PublishRequestData): void {
    if (this.waiting === 0) {
      const checked = this.publisher.check(request);
      if (!checked.ok || checked.value.resume.length === 0) {
        this.handleChecked(request, checked);
        return;
      }
    }
    this.waiting++;
    this.chain = this.chain.then(async () => {
      try {
        const subject = await this.publisher.prepare(request);
        this.handleChecked(request, subject.ok ? ok({ subject: subject.value, resume: [] }) : subject);
      } catch (error) {
        this.respond({ kind: 'error', correlationId: request.correlationId, error: { kind: 'InvalidRequest', reason: error instanceof Error ? error.message : String(error) } });
      } finally {
        this.waiting--;
      }
    });
  }

  /** Client finished sending (or the server shuts down): wait for outstanding acks (bounded), then release the inbox. */
  async finish(waitMs = DRAIN_WAIT_MS): Promise<void> {
    await this.chain;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.scheduler.setTimeout(resolve, waitMs);
        this.drained = () => {
          timer.cancel();
          resolve();
        };
      });
    }
    this.close();
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.inbox?.close();
    this.inbox = null;
  }

  private handleChecked(request: PublishRequestData, checked: Result<{ subject: string; resume: readonly number[] }, ApplicationError>): void {
    const inbox = this.inbox;
    if (!inbox) return;
    if (!checked.ok) {
      this.respond({ kind: 'error', correlationId: request.correlationId, error: checked.error });
      return;
    }
    const subject = checked.value.subject;
    let published: boolean;
    try {
      published = this.publisher.publishOrTooLarge(subject, {
        key: request.key,
        value: request.value,
        headers: request.headers,
        ackInbox: inbox.subject,
        correlationId: request.correlationId,
        ackPolicy: request.ackPolicy,
        expectedOffset: request.expectedOffset,
      });
    } catch (error) {
      this.respond({ kind: 'error', correlationId: request.correlationId, error: { kind: 'InvalidRequest', reason: error instanceof Error ? error.message : String(error) } });
      return;
    }
    if (!published) {
      this.respond({ kind: 'ack', ack: tooLargeAck(request, subject, inbox.subject) });
      return;
    }
    if (request.ackPolicy !== AckPolicy.NONE) this.inFlight++;
  }

  private onAck(ack: AckMessage): void {
    // NONE requests were not counted, but leaders still send them error acks (docs/protocol.md "Ack timing").
    if (this.inFlight > 0 && ack.ackPolicy !== AckPolicy.NONE) this.inFlight--;
    this.respond({ kind: 'ack', ack });
    if (this.inFlight === 0 && this.drained) this.drained();
  }
}
