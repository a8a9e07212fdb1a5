import { inject, injectable } from 'inversify';
import { err, ok, Result } from '../../domain/shared/result';
import { isValidSubject, partitionSubject } from '../../domain/stream/stream-names';
import { ApplicationError } from '../errors/application-errors';
import { PayloadTooLargeError } from '../errors/broker-errors';
import { MetadataService } from '../metadata/metadata-service';
import { Scheduler } from '../ports/clock.port';
import { AckError, AckInbox, AckMessage, AckPolicy, MessageTransport, OutboundPublish } from '../ports/message-transport.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { StreamAdminHandler } from './stream-admin';

export interface PublishRequestData {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly stream: string;
  readonly partition: number;
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
  readonly expectedOffset: number;
}

export interface PublishToSubjectData {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly subject: string;
  readonly headers: Readonly<Record<string, Uint8Array>> | null;
  readonly ackInbox: string;
  readonly correlationId: string;
  readonly ackPolicy: AckPolicy;
}

/** Without a client deadline Go returns at once without an ack; we wait this long instead (docs/compatibility.md). */
export const DEFAULT_ACK_WAIT_MS = 5000;

const NOTHING_TO_RESUME: readonly number[] = [];

/**
 * The server-side publish RPCs (spec §2.9). Like Liftbridge, they publish an envelope on the
 * partition's NATS subject, so every stream attached to that subject receives it, and wait for
 * the leader's ack on an inbox.
 */
@injectable()
export class PublishHandler {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(StreamAdminHandler) private readonly admin: StreamAdminHandler,
    @inject(TOKENS.MessageTransport) private readonly transport: MessageTransport,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
  ) {}

  /**
   * Checks a request without side effects: the NATS subject to publish on, and the paused
   * partitions that must be resumed first (empty on the common path, which stays synchronous).
   */
  check(request: PublishRequestData): Result<{ subject: string; resume: readonly number[] }, ApplicationError> {
    if (request.stream === '') return err({ kind: 'NoStreamProvided' });
    const stream = this.metadata.state.streams.get(request.stream);
    if (!stream) return err({ kind: 'NoSuchStream', stream: request.stream });
    const partition = stream.partitions[request.partition];
    if (!partition) return err({ kind: 'NoSuchPartition', partition: request.partition });
    if (request.ackPolicy !== AckPolicy.Leader && request.ackPolicy !== AckPolicy.All && request.ackPolicy !== AckPolicy.None)
      return err({ kind: 'InvalidAckPolicy', value: request.ackPolicy });
    if (partition.readonly) return err({ kind: 'PartitionReadonly', partition: partition.id });
    const occ = stream.config.optimisticConcurrencyControl ?? this.settings.streamDefaults.concurrencyControl;
    if (occ && request.ackPolicy === AckPolicy.None) return err({ kind: 'ConcurrencyControlNeedsAck' });
    let resume: readonly number[] = NOTHING_TO_RESUME;
    if (partition.paused || stream.resumeAll) {
      resume = stream.resumeAll ? stream.partitions.filter((p) => p.paused).map((p) => p.id) : [partition.id];
    }
    return ok({ subject: partitionSubject(stream.subject, partition.id), resume });
  }

  /** Checks a request and resumes a paused partition; returns the NATS subject to publish on. */
  async prepare(request: PublishRequestData): Promise<Result<string, ApplicationError>> {
    const checked = this.check(request);
    if (!checked.ok) return checked;
    if (checked.value.resume.length > 0) {
      const resumed = await this.admin.resumeStream(request.stream, checked.value.resume);
      if (!resumed.ok) return err({ kind: 'ResumeFailed', reason: resumed.error.kind });
    }
    return ok(checked.value.subject);
  }

  /** Unary Publish: resolves with the first ack, or null when the policy is NONE. */
  async publish(request: PublishRequestData, deadlineMs: number | null): Promise<Result<AckMessage | null, ApplicationError>> {
    const subject = await this.prepare(request);
    if (!subject.ok) return subject;
    const result = await this.publishAndWait(subject.value, request, deadlineMs);
    if (!result.ok || result.value === null || result.value.ackError === AckError.Ok) return result;
    return err({ kind: 'AckRejected', ackError: result.value.ackError });
  }

  /** PublishToSubject: no stream lookup; ack errors are returned in the ack as they are. */
  async publishToSubject(request: PublishToSubjectData, deadlineMs: number | null): Promise<Result<AckMessage | null, ApplicationError>> {
    if (!isValidSubject(request.subject) || request.subject.includes('*') || request.subject.includes('>'))
      return err({ kind: 'InvalidRequest', reason: `invalid subject "${request.subject}"` });
    if (request.ackPolicy !== AckPolicy.Leader && request.ackPolicy !== AckPolicy.All && request.ackPolicy !== AckPolicy.None)
      return err({ kind: 'InvalidAckPolicy', value: request.ackPolicy });
    return this.publishAndWait(request.subject, { ...request, expectedOffset: -1 }, deadlineMs);
  }

  /** The payload alone already exceeds the limit: refuse before publishing (spec §2.9 TOO_LARGE). */
  private tooLarge(request: { key: Uint8Array | null; value: Uint8Array | null }): boolean {
    return (request.key?.length ?? 0) + (request.value?.length ?? 0) > this.settings.replicationMaxBytes;
  }

  /** Publishes unless the message is too large; false = refused as TOO_LARGE. */
  publishOrTooLarge(subject: string, message: OutboundPublish): boolean {
    if (this.tooLarge(message)) return false;
    try {
      this.transport.publish(subject, message);
      return true;
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return false;
      throw error;
    }
  }

  private async publishAndWait(
    subject: string,
    request: Omit<OutboundPublish, 'ackInbox'> & { readonly ackInbox: string },
    deadlineMs: number | null,
  ): Promise<Result<AckMessage | null, ApplicationError>> {
    const tooLarge = err<ApplicationError>({ kind: 'AckRejected', ackError: AckError.TooLarge });
    if (request.ackPolicy === AckPolicy.None) return this.publishOrTooLarge(subject, request) ? ok(null) : tooLarge;
    if (this.tooLarge(request)) return tooLarge;
    const inbox = await this.transport.openAckInbox(request.ackInbox === '' ? undefined : request.ackInbox);
    try {
      const ack = this.firstAck(inbox, deadlineMs ?? DEFAULT_ACK_WAIT_MS);
      if (!this.publishOrTooLarge(subject, { ...request, ackInbox: inbox.subject })) return tooLarge;
      const received = await ack;
      return received ? ok(received) : err({ kind: 'AckTimeout' });
    } finally {
      inbox.close();
    }
  }

  private firstAck(inbox: AckInbox, waitMs: number): Promise<AckMessage | null> {
    return new Promise((resolve) => {
      const timer = this.scheduler.setTimeout(() => {
        subscription.unsubscribe();
        resolve(null);
      }, Math.max(0, waitMs));
      const subscription = inbox.acks$.subscribe({
        next: (ack) => {
          timer.cancel();
          subscription.unsubscribe();
          resolve(ack);
        },
        complete: () => {
          timer.cancel();
          resolve(null);
        },
      });
    });
  }
}
