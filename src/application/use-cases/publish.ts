import { inject, injectable } from 'inversify';
import { err, ok, Result } from '../../domain/shared/result';
import { ackInboxProblem, clientSubjectProblem } from '../../domain/cluster/internal-subjects';
import { partitionSubject } from '../../domain/stream/stream-names';
import { ApplicationError } from '../errors/application-errors';
import { PayloadTooLargeError } from '../errors/broker-errors';
import { MetadataService } from '../metadata/metadata-service';
import { Scheduler } from '../ports/clock.port';
import { AckError, AckMessage, AckPolicy, MessageTransport, OutboundPublish } from '../ports/message-transport.port';
import { entryBytesMax } from '../partitions/record-limits';
import { answeringAck } from './answering-ack';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
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
 * The server-side publish RPCs (docs/protocol.md "Publish RPCs"). Like Liftbridge, they publish an envelope on the
 * partition's NATS subject, so every stream attached to that subject receives it, and wait for
 * the leader's ack on an inbox.
 */
@injectable()
export class PublishHandler {
  /**
   * Largest entry a leader accepts (docs/replication.md "Message size"). The start-up check keeps
   * replication.max.bytes within NATS max_payload; leaders re-check against the current max_payload.
   */
  private readonly entryBytesMax: number;

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(StreamAdminHandler) private readonly admin: StreamAdminHandler,
    @inject(TOKENS.MessageTransport) private readonly transport: MessageTransport,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
  ) {
    this.entryBytesMax = entryBytesMax(settings.replicationMaxBytes, Number.MAX_SAFE_INTEGER);
  }

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
    if (request.ackPolicy !== AckPolicy.LEADER && request.ackPolicy !== AckPolicy.ALL && request.ackPolicy !== AckPolicy.NONE)
      return err({ kind: 'InvalidAckPolicy', value: request.ackPolicy });
    if (partition.readonly) return err({ kind: 'PartitionReadonly', partition: partition.id });
    const occ = stream.config.optimisticConcurrencyControl ?? this.settings.streamDefaults.concurrencyControl;
    if (occ && request.ackPolicy === AckPolicy.NONE) return err({ kind: 'ConcurrencyControlNeedsAck' });
    let resume: readonly number[] = NOTHING_TO_RESUME;
    if (partition.paused || stream.resumeAll) {
      resume = stream.resumeAll ? stream.partitions.filter((p) => p.paused).map((p) => p.id) : [partition.id];
    } else if (this.partitions.anyNotStarted && partition.leader === this.settings.serverId) {
      // No leader role listens on the subject: the publish would wait for an ack that never comes.
      const failure = this.partitions.notStarted({ stream: stream.name, partition: partition.id });
      if (failure) return err({ kind: 'PartitionNotStarted', stream: stream.name, partition: partition.id, code: failure.code, message: failure.message });
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
    const inboxRefused = this.ackInboxRefusal(request.ackInbox);
    if (inboxRefused) return inboxRefused;
    const subject = await this.prepare(request);
    if (!subject.ok) return subject;
    const result = await this.publishAndWait(subject.value, request, deadlineMs);
    if (!result.ok || result.value === null || result.value.ackError === AckError.OK) return result;
    return err({ kind: 'AckRejected', ackError: result.value.ackError });
  }

  /**
   * PublishToSubject: no stream lookup; ack errors are returned in the ack as they are. Subjects of
   * the server namespace are refused: a client must not talk on the servers' own protocol.
   */
  async publishToSubject(request: PublishToSubjectData, deadlineMs: number | null): Promise<Result<AckMessage | null, ApplicationError>> {
    const subjectProblem = clientSubjectProblem(this.settings.namespace, request.subject);
    if (subjectProblem) return err({ kind: 'InvalidRequest', reason: `invalid subject ${JSON.stringify(request.subject)}: ${subjectProblem}` });
    if (request.ackPolicy !== AckPolicy.LEADER && request.ackPolicy !== AckPolicy.ALL && request.ackPolicy !== AckPolicy.NONE)
      return err({ kind: 'InvalidAckPolicy', value: request.ackPolicy });
    const inboxRefused = this.ackInboxRefusal(request.ackInbox);
    if (inboxRefused) return inboxRefused;
    return this.publishAndWait(request.subject, { ...request, expectedOffset: -1 }, deadlineMs);
  }

  /** A client-chosen ack inbox the leaders would never answer on (docs/reliability.md "Bad inputs", B15): refused now, not after a timeout. */
  private ackInboxRefusal(inbox: string): Result<never, ApplicationError> | null {
    if (inbox === '') return null;
    const problem = ackInboxProblem(this.settings.namespace, inbox);
    return problem === null ? null : err({ kind: 'InvalidRequest', reason: `invalid ackInbox ${JSON.stringify(inbox)}: ${problem}` });
  }

  /**
   * Publishes unless the leader would refuse the message as too large (the entry it would store
   * does not fit a replication reply; the envelope does not fit NATS): false = refused as TOO_LARGE.
   */
  publishOrTooLarge(subject: string, message: OutboundPublish): boolean {
    try {
      this.transport.publish(subject, message, this.entryBytesMax);
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
    const tooLarge = err<ApplicationError>({ kind: 'AckRejected', ackError: AckError.TOO_LARGE });
    if (request.ackPolicy === AckPolicy.NONE) return this.publishOrTooLarge(subject, request) ? ok(null) : tooLarge;
    const inbox = await this.transport.openAckInbox(request.ackInbox === '' ? undefined : request.ackInbox);
    try {
      const ack = answeringAck(inbox.acks$, this.scheduler, deadlineMs ?? DEFAULT_ACK_WAIT_MS);
      if (!this.publishOrTooLarge(subject, { ...request, ackInbox: inbox.subject })) return tooLarge;
      const received = await ack;
      return received ? ok(received) : err({ kind: 'AckTimeout' });
    } finally {
      inbox.close();
    }
  }
}
