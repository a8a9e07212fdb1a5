import {
  handleUnaryCall,
  sendUnaryData,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  status,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ApplicationError } from '../../../application/errors/application-errors';
import { CursorService } from '../../../application/cursors/cursor-service';
import type { ClientAuthorizer } from '../../../application/ports/client-authorizer.port';
import { Logger } from '../../../application/ports/logger.port';
import { AckMessage, MessageTransport } from '../../../application/ports/message-transport.port';
import { Scheduler } from '../../../application/ports/clock.port';
import { FetchMetadataQuery, PartitionView } from '../../../application/use-cases/fetch-metadata';
import { PublishHandler, PublishRequestData } from '../../../application/use-cases/publish';
import { PublishAsyncResponse, PublishAsyncSession } from '../../../application/use-cases/publish-async-session';
import { StreamAdminHandler } from '../../../application/use-cases/stream-admin';
import { SubscribeHandler } from '../../../application/use-cases/subscribe';
import { Result } from '../../../domain/shared/result';
import * as api from '../../../protocol/api-types';
import { encodePublishResponse } from '../../../protocol/publish-response-codec';
import { PublishPermission, withAuthorization } from './authorizing-handlers';
import { ackErrorStatus, thrownStatus, toStatus } from './grpc-error-mapping';
import { GrpcFrameBatch } from '../../../protocol/grpc-frame-batch';
import { rawFrameWriter } from '../../../protocol/grpc-raw-frames';
import { CreateStreamDto, dtoProblem, publishedFieldsProblem, publishRequestProblem, SubscribeDto } from './request-dtos';
import { bytesOrNull, headersOrNull, int64ToOffset, toCreateStreamData } from './request-mapping';
import { SHUTTING_DOWN_DETAILS, StreamingCalls } from './streaming-calls';
import { serveSubscribe } from './subscribe-call';
import { cursorHandlers } from './cursor-handlers';
import { groupHandlers } from './group-handlers';
import { ConsumerGroupService } from '../../../application/groups/consumer-groups';

export interface ApiServiceDeps {
  readonly admin: StreamAdminHandler;
  readonly metadata: FetchMetadataQuery;
  readonly publisher: PublishHandler;
  readonly subscriber: SubscribeHandler;
  readonly transport: MessageTransport;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Open Subscribe and PublishAsync calls, ended by the server at shutdown. */
  readonly calls: StreamingCalls;
  /** Client authorization (docs/security.md); null when it is off. */
  readonly authorizer: ClientAuthorizer | null;
  readonly cursors: CursorService;
  readonly groups: ConsumerGroupService;
}

/** At shutdown, a PublishAsync call waits at most this long for the acks of what it published. */
const PUBLISH_ASYNC_SHUTDOWN_WAIT_MS = 250;

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * `proto.API` handlers: decode → use case → encode. Every refusal goes through the one mapping
 * table, and so does what a use case throws (`thrownStatus`: retriable errors are UNAVAILABLE,
 * the rest INTERNAL with a log line), never a crash. Each handler
 * answers exactly once.
 */
export function createApiHandlers(deps: ApiServiceDeps): UntypedServiceImplementation {
  const unary = <Req, Res>(name: string, body: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Result<Res, ApplicationError> | StatusOnly>): handleUnaryCall<Req, Res> =>
    ((call, callback) => {
      body(call.request, call).then(
        (result) => {
          if ('code' in result) return callback({ code: result.code, details: result.details });
          if (result.ok) return callback(null, result.value);
          const answer = toStatus(result.error);
          return callback({ code: answer.code, details: answer.message });
        },
        (error: unknown) => {
          const answer = thrownStatus(error);
          if (answer.code === status.INTERNAL) deps.logger.error({ err: error, rpc: name }, 'RPC failed');
          else deps.logger.warn({ err: error, rpc: name, code: answer.code }, 'RPC failed, the client may retry');
          callback({ code: answer.code, details: answer.message });
        },
      );
    }) as Unary<Req, Res>;

  const handlers: UntypedServiceImplementation = {
    CreateStream: unary<api.CreateStreamRequest, api.CreateStreamResponse>('CreateStream', async (req, call) => {
      const problem = dtoProblem(CreateStreamDto, req);
      if (problem) return invalid(problem);
      return mapOk(await deps.admin.createStream(toCreateStreamData(req), callSignal(call)), {});
    }),
    DeleteStream: unary<api.DeleteStreamRequest, api.DeleteStreamResponse>('DeleteStream', async (req, call) => mapOk(await deps.admin.deleteStream(req.name, callSignal(call)), {})),
    PauseStream: unary<api.PauseStreamRequest, api.PauseStreamResponse>('PauseStream', async (req, call) =>
      mapOk(await deps.admin.pauseStream(req.name, req.partitions, req.resumeAll, callSignal(call)), {}),
    ),
    SetStreamReadonly: unary<api.SetStreamReadonlyRequest, api.SetStreamReadonlyResponse>('SetStreamReadonly', async (req, call) =>
      mapOk(await deps.admin.setStreamReadonly(req.name, req.partitions, req.readonly, callSignal(call)), {}),
    ),
    Subscribe: (call: ServerWritableStream<api.SubscribeRequest, Buffer>) => {
      const problem = dtoProblem(SubscribeDto, call.request);
      if (problem) {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: problem });
        return;
      }
      serveSubscribe(call, deps.subscriber, deps.calls).catch((error: unknown) => {
        const answer = thrownStatus(error);
        deps.logger.error({ err: error, rpc: 'Subscribe', code: answer.code }, 'subscription failed');
        call.emit('error', { code: answer.code, details: answer.message });
      });
    },
    FetchMetadata: unary<api.FetchMetadataRequest, api.FetchMetadataResponse>('FetchMetadata', async (req) => ({
      ok: true,
      value: {
        brokers: deps.metadata.brokers(),
        streamMetadata: deps.metadata.streams(req.streams).map((s) =>
          s.kind === 'unknown'
            ? { name: s.name, subject: '', error: api.StreamMetadataError.UNKNOWN_STREAM, partitions: {}, creationTimestamp: 0n }
            : {
                name: s.name,
                subject: s.subject,
                error: api.StreamMetadataError.OK,
                partitions: Object.fromEntries(s.partitions.map((p) => [p.id, toPartitionMetadata(p)])),
                creationTimestamp: s.creationTimestampNs,
              },
        ),
        groupMetadata: deps.metadata.groups(req.groups).map((g) =>
          g.kind === 'unknown'
            ? { groupId: g.id, error: api.ConsumerGroupMetadataError.UNKNOWN_GROUP, coordinator: '', epoch: 0n }
            : { groupId: g.id, error: api.ConsumerGroupMetadataError.OK, coordinator: g.coordinator, epoch: BigInt(g.epoch) },
        ),
      },
    })),
    FetchPartitionMetadata: unary<api.FetchPartitionMetadataRequest, api.FetchPartitionMetadataResponse>('FetchPartitionMetadata', async (req) => {
      const result = deps.metadata.partition(req.stream, req.partition);
      return result.ok ? { ok: true, value: { metadata: toPartitionMetadata(result.value) } } : result;
    }),
    Publish: unary<api.PublishRequest, api.PublishResponse>('Publish', async (req, call) => {
      const problem = publishRequestProblem(req);
      if (problem) return invalid(problem);
      const result = await deps.publisher.publish(toPublishData(req), deadlineMs(call.getDeadline()));
      if (!result.ok) return result;
      return { ok: true, value: { ack: result.value ? toApiAck(result.value) : undefined, correlationId: req.correlationId } as api.PublishResponse };
    }),
    PublishAsync: (call: ServerDuplexStream<api.PublishRequest, api.PublishResponse>) => servePublishAsync(call, deps),
    PublishToSubject: unary<api.PublishToSubjectRequest, api.PublishToSubjectResponse>('PublishToSubject', async (req, call) => {
      const problem = publishedFieldsProblem(req);
      if (problem) return invalid(problem);
      const result = await deps.publisher.publishToSubject(
        {
          key: bytesOrNull(req.key),
          value: bytesOrNull(req.value),
          subject: req.subject,
          headers: headersOrNull(req.headers),
          ackInbox: req.ackInbox,
          correlationId: req.correlationId,
          ackPolicy: req.ackPolicy as number,
        },
        deadlineMs(call.getDeadline()),
      );
      if (!result.ok) return result;
      return { ok: true, value: (result.value ? { ack: toApiAck(result.value) } : {}) as api.PublishToSubjectResponse };
    }),
    ...cursorHandlers(deps.cursors, deps.logger),
    ...groupHandlers(deps.groups, deps.logger),
  };
  return deps.authorizer === null ? handlers : withAuthorization(handlers, deps.authorizer);
}

type StatusOnly = { readonly code: status; readonly details: string };

const invalid = (details: string): StatusOnly => ({ code: status.INVALID_ARGUMENT, details });

function mapOk<Res>(result: Result<void, ApplicationError>, value: Res): Result<Res, ApplicationError> {
  return result.ok ? { ok: true, value } : result;
}

/** Milliseconds left before the call's deadline, or null when it has none. */
/** Aborts when the call ends early: its deadline passed or the client cancelled (grpc-js says 'cancelled' for both). */
function callSignal(call: { on(event: 'cancelled', listener: () => void): unknown }): AbortSignal {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort(new Error('the call was cancelled or its deadline passed')));
  return controller.signal;
}

function deadlineMs(deadline: Date | number): number | null {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

function toPublishData(req: api.PublishRequest): PublishRequestData {
  return {
    key: bytesOrNull(req.key),
    value: bytesOrNull(req.value),
    stream: req.stream,
    partition: req.partition,
    headers: headersOrNull(req.headers),
    ackInbox: req.ackInbox,
    correlationId: req.correlationId,
    ackPolicy: req.ackPolicy as number,
    expectedOffset: int64ToOffset(req.expectedOffset),
  };
}

export function toApiAck(ack: AckMessage): api.Ack {
  return {
    stream: ack.stream,
    partitionSubject: ack.partitionSubject,
    msgSubject: ack.msgSubject,
    offset: BigInt(ack.offset),
    ackInbox: ack.ackInbox,
    correlationId: ack.correlationId,
    ackPolicy: ack.ackPolicy as number,
    receptionTimestamp: ack.receptionTimestampNs,
    commitTimestamp: ack.commitTimestampNs,
    ackError: ack.ackError as number,
  };
}

function toPartitionMetadata(p: PartitionView): api.PartitionMetadata {
  return {
    id: p.id,
    leader: p.leader,
    replicas: p.replicas,
    isr: p.isr,
    highWatermark: BigInt(p.highWatermark),
    newestOffset: BigInt(p.newestOffset),
    paused: p.paused,
    readonly: p.readonly,
    messagesReceivedTimestamps: { firstTimestamp: p.messagesReceivedTimestamps.firstNs, latestTimestamp: p.messagesReceivedTimestamps.latestNs },
    pauseTimestamps: { firstTimestamp: p.pauseTimestamps.firstNs, latestTimestamp: p.pauseTimestamps.latestNs },
    readonlyTimestamps: { firstTimestamp: p.readonlyTimestamps.firstNs, latestTimestamp: p.readonlyTimestamps.latestNs },
  };
}

/** PublishAsync error codes for refusals (docs/protocol.md "PublishAsync"). */
function asyncErrorOf(error: ApplicationError): api.PublishAsyncError {
  const message = toStatus(error).message;
  switch (error.kind) {
    case 'NoStreamProvided':
    case 'NoSuchStream':
    case 'NoSuchPartition':
      return { code: api.PublishAsyncErrorCode.NOT_FOUND, message };
    case 'PartitionReadonly':
      return { code: api.PublishAsyncErrorCode.READONLY, message };
    case 'ResumeFailed':
    case 'PartitionNotStarted': // the protocol has no "unavailable" here: a server-side condition, as INTERNAL is
      return { code: api.PublishAsyncErrorCode.INTERNAL, message };
    default:
      return { code: api.PublishAsyncErrorCode.BAD_REQUEST, message };
  }
}

function asyncAckError(ack: AckMessage): api.PublishAsyncError {
  const message = ackErrorStatus(ack.ackError).message;
  switch (ack.ackError as number) {
    case api.AckError.INCORRECT_OFFSET:
      return { code: api.PublishAsyncErrorCode.INCORRECT_OFFSET, message };
    case api.AckError.TOO_LARGE:
      return { code: api.PublishAsyncErrorCode.BAD_REQUEST, message };
    case api.AckError.ENCRYPTION:
      return { code: api.PublishAsyncErrorCode.ENCRYPTION_FAILED, message };
    default:
      return { code: api.PublishAsyncErrorCode.UNKNOWN, message };
  }
}

const EMPTY_ACK = {} as api.Ack;

const deniedResponse = (req: api.PublishRequest, message: string): api.PublishResponse =>
  ({ ack: EMPTY_ACK, asyncError: { code: api.PublishAsyncErrorCode.PERMISSION_DENIED, message }, correlationId: req.correlationId }) as api.PublishResponse;

/** A PublishAsync answer as the wire response; error responses carry an empty non-nil ack for older clients (docs/protocol.md "PublishAsync"). */
function publishResponseOf(response: PublishAsyncResponse): api.PublishResponse {
  if (response.kind === 'error') return { ack: EMPTY_ACK, asyncError: asyncErrorOf(response.error), correlationId: response.correlationId } as api.PublishResponse;
  const ack = response.ack;
  return ack.ackError === 0
    ? ({ ack: toApiAck(ack), correlationId: ack.correlationId } as api.PublishResponse)
    : ({ ack: EMPTY_ACK, asyncError: asyncAckError(ack), correlationId: ack.correlationId } as api.PublishResponse);
}

/**
 * How a PublishAsync call writes its responses: those of one synchronous run go out in one HTTP/2
 * write (`batch`, flushed after the run), or through grpc-js one by one if its internals differ.
 */
function publishResponseWriter(call: ServerDuplexStream<api.PublishRequest, api.PublishResponse>): { send: (response: api.PublishResponse) => void; batch: GrpcFrameBatch | null } {
  const raw = rawFrameWriter(call as unknown as ServerWritableStream<unknown, unknown>);
  const batch = raw === null ? null : new GrpcFrameBatch(raw);
  const send = batch === null ? (response: api.PublishResponse): void => void call.write(response) : (response: api.PublishResponse): void => batch.add(encodePublishResponse(response));
  return { send, batch };
}

function servePublishAsync(call: ServerDuplexStream<api.PublishRequest, api.PublishResponse>, deps: ApiServiceDeps): void {
  // Authorization: the client's identity once per call, the Publish permission per request.
  const permission = deps.authorizer === null ? null : PublishPermission.of(deps.authorizer, call);
  if (permission !== null && !(permission instanceof PublishPermission)) {
    call.emit('error', permission);
    return;
  }
  let closed = false;
  const { send, batch } = publishResponseWriter(call);
  const respond = (response: PublishAsyncResponse): void => {
    if (!closed) send(publishResponseOf(response));
  };
  const session = new PublishAsyncSession(deps.publisher, deps.transport, deps.scheduler, respond);
  const opening = session.open();
  // Requests that arrive before the ack inbox is subscribed wait for it; later ones go straight through.
  let opened = false;
  const early: api.PublishRequest[] = [];
  opening.then(
    () => {
      opened = true;
      for (const req of early) session.submit(toPublishData(req));
      early.length = 0;
    },
    () => undefined,
  );
  const end = (): void => {
    if (closed) return;
    closed = true;
    untrack();
    session.close();
  };
  // Shutdown (leadership has moved): relay acks until none is missing (bounded; requests still
  // go through, the new leaders ack them), then end with UNAVAILABLE: the client reconnects to
  // the new leader, and what is still unacknowledged fails as retriable.
  const untrack = deps.calls.track(() => {
    opening
      .then(() => session.finish(PUBLISH_ASYNC_SHUTDOWN_WAIT_MS))
      .then(() => {
        if (closed) return;
        closed = true;
        batch?.flush();
        call.emit('error', { code: status.UNAVAILABLE, details: SHUTTING_DOWN_DETAILS });
      })
      .catch((error: unknown) => deps.logger.error({ err: error, rpc: 'PublishAsync' }, 'PublishAsync shutdown failed'));
  });
  call.on('data', (req: api.PublishRequest) => {
    // Refused, and unlike Go Liftbridge not published either (docs/compatibility.md).
    const denial = permission === null ? null : permission.denial(req.stream);
    if (denial !== null) {
      if (!closed) send(deniedResponse(req, denial.details));
      return;
    }
    const problem = publishRequestProblem(req);
    if (problem) {
      respond({ kind: 'error', correlationId: req.correlationId, error: { kind: 'InvalidRequest', reason: problem } });
      return;
    }
    if (opened) session.submit(toPublishData(req));
    else early.push(req);
  });
  call.on('end', () => {
    opening
      .then(() => session.finish())
      .then(() => {
        if (!closed) {
          closed = true;
          untrack();
          batch?.flush();
          call.end();
        }
      })
      .catch((error: unknown) => deps.logger.error({ err: error, rpc: 'PublishAsync' }, 'PublishAsync drain failed'));
  });
  call.on('cancelled', end).on('error', end);
  opening.catch((error: unknown) => {
    deps.logger.error({ err: error, rpc: 'PublishAsync' }, 'could not open the ack inbox');
    closed = true;
    call.emit('error', { code: status.UNAVAILABLE, details: 'could not open the ack inbox' });
  });
}
