import { handleUnaryCall, sendUnaryData, status } from '@grpc/grpc-js';
import { ApplicationError } from '../../../application/errors/application-errors';
import { ConsumerGroupService } from '../../../application/groups/consumer-groups';
import { Logger } from '../../../application/ports/logger.port';
import { Result } from '../../../domain/shared/result';
import * as api from '../../../protocol/api-types';
import { StatusAnswer, thrownStatus, toStatus } from './grpc-error-mapping';

const NS_PER_MS = 1_000_000n;

/**
 * Where an RPC's answer differs from the shared table (docs/consumers.md "Errors"), as Go answers:
 * a join naming an unknown stream is FAILED_PRECONDITION; the controller's refusals of a coordinator
 * report say which group or consumer.
 */
export function joinStatus(error: ApplicationError): StatusAnswer {
  if (error.kind === 'StreamNotFound') return { code: status.FAILED_PRECONDITION, message: 'stream does not exist' };
  return toStatus(error);
}

export function reportStatus(error: ApplicationError): StatusAnswer {
  if (error.kind === 'ConsumerGroupNotFound') return { code: status.FAILED_PRECONDITION, message: `No such consumer group ${error.group}` };
  if (error.kind === 'ConsumerNotMember') return { code: status.FAILED_PRECONDITION, message: `Consumer ${error.consumer} is not a member of consumer group ${error.group}` };
  return toStatus(error);
}

function answer<Res>(
  work: Promise<Result<Res, ApplicationError>>,
  callback: sendUnaryData<Res>,
  rpc: string,
  logger: Logger,
  statusOf: (error: ApplicationError) => StatusAnswer = toStatus,
): void {
  work.then(
    (result) => {
      if (result.ok) return callback(null, result.value);
      const refused = statusOf(result.error);
      return callback({ code: refused.code, details: refused.message });
    },
    (error: unknown) => {
      const failure = thrownStatus(error);
      if (failure.code === status.INTERNAL) logger.error({ err: error, rpc }, 'RPC failed');
      else logger.warn({ err: error, rpc, code: failure.code }, 'RPC failed, the client may retry');
      callback({ code: failure.code, details: failure.message });
    },
  );
}

/** An epoch on the wire (uint64) as a metadata index; beyond safe integers it matches no group. */
const epochOf = (epoch: bigint): number => (epoch <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(epoch) : -1);

/** The consumer-group RPCs (docs/consumers.md "Consumer groups"): decode, call the group service, encode. */
export function groupHandlers(groups: ConsumerGroupService, logger: Logger): {
  JoinConsumerGroup: handleUnaryCall<api.JoinConsumerGroupRequest, api.JoinConsumerGroupResponse>;
  LeaveConsumerGroup: handleUnaryCall<api.LeaveConsumerGroupRequest, api.LeaveConsumerGroupResponse>;
  FetchConsumerGroupAssignments: handleUnaryCall<api.FetchConsumerGroupAssignmentsRequest, api.FetchConsumerGroupAssignmentsResponse>;
  ReportConsumerGroupCoordinator: handleUnaryCall<api.ReportConsumerGroupCoordinatorRequest, api.ReportConsumerGroupCoordinatorResponse>;
} {
  return {
    JoinConsumerGroup: (call, callback) => {
      const req = call.request;
      const work = groups.join({ group: req.groupId, consumer: req.consumerId }, req.streams).then((r) =>
        r.ok
          ? {
              ok: true as const,
              value: {
                coordinator: r.value.coordinator,
                epoch: BigInt(r.value.epoch),
                consumerTimeout: BigInt(r.value.consumerTimeoutMs) * NS_PER_MS,
                coordinatorTimeout: BigInt(r.value.coordinatorTimeoutMs) * NS_PER_MS,
              },
            }
          : r,
      );
      answer(work, callback, 'JoinConsumerGroup', logger, joinStatus);
    },
    LeaveConsumerGroup: (call, callback) => {
      const req = call.request;
      answer(groups.leave({ group: req.groupId, consumer: req.consumerId }).then((r) => (r.ok ? { ok: true as const, value: {} } : r)), callback, 'LeaveConsumerGroup', logger);
    },
    FetchConsumerGroupAssignments: (call, callback) => {
      const req = call.request;
      const r = groups.fetchAssignments({ group: req.groupId, consumer: req.consumerId }, epochOf(req.epoch));
      const work = Promise.resolve(r.ok ? { ok: true as const, value: { epoch: BigInt(r.value.epoch), assignments: r.value.assignments } } : r);
      answer(work, callback, 'FetchConsumerGroupAssignments', logger);
    },
    ReportConsumerGroupCoordinator: (call, callback) => {
      const req = call.request;
      const work = groups.reportCoordinator({ group: req.groupId, consumer: req.consumerId }, req.coordinator, epochOf(req.epoch)).then((r) => (r.ok ? { ok: true as const, value: {} } : r));
      answer(work, callback, 'ReportConsumerGroupCoordinator', logger, reportStatus);
    },
  };
}
