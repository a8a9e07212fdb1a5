import { sendUnaryData, ServerUnaryCall, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ApplicationError } from '../../../application/errors/application-errors';
import { ConsumerGroupInspection, GroupDescription } from '../../../application/groups/group-inspection';
import type { ClientAuthorizer } from '../../../application/ports/client-authorizer.port';
import { Logger } from '../../../application/ports/logger.port';
import type * as admin from '../../../protocol/group-admin-proto';
import { groupAdminServiceDefinition, type GroupAdminHandlers } from '../../../protocol/group-admin-service-definition';
import type { ProtoInit } from '../../../protocol/proto-schema';
import { denialFor } from './authorizing-handlers';
import type { ExtensionService } from './grpc-api-server';
import { StatusAnswer, thrownStatus, toStatus } from './grpc-error-mapping';
import { ANY_RESOURCE, Permission } from './rpc-permissions';

const NS_PER_MS = 1_000_000n;

/**
 * What each call of the GroupAdmin extension needs under authorization (docs/security.md
 * "Authorization"): actions of its own, so a policy written for Liftbridge grants neither.
 */
export const GROUP_ADMIN_PERMISSIONS = {
  ListConsumerGroups: (): readonly Permission[] => [{ object: ANY_RESOURCE, action: 'ListConsumerGroups' }],
  DescribeConsumerGroup: (request: admin.DescribeConsumerGroupRequest): readonly Permission[] => [{ object: request.groupId, action: 'DescribeConsumerGroup' }],
} as const;

/**
 * The extension's answers to refusals. Not bound by Go's codes (Go has no such calls), so a
 * refusal of authorization is PERMISSION_DENIED and an unknown group names itself.
 */
export function groupAdminStatus(error: ApplicationError): StatusAnswer {
  if (error.kind === 'ConsumerGroupNotFound') return { code: status.NOT_FOUND, message: `no such consumer group: ${error.group}` };
  return toStatus(error);
}

function toDescribeResponse(group: GroupDescription): ProtoInit<admin.DescribeConsumerGroupResponse> {
  return {
    groupId: group.id,
    coordinator: group.coordinator,
    epoch: BigInt(group.epoch),
    consumerTimeout: BigInt(group.consumerTimeoutMs) * NS_PER_MS,
    members: group.members.map((m) => ({ consumerId: m.id, streams: m.streams, assignments: m.assignments })),
  };
}

type Answer<Res> = { readonly ok: true; readonly value: Res } | { readonly ok: false; readonly status: StatusAnswer };

/**
 * One call: the authorization check first (when on), then `work`; whatever it throws is answered
 * through `thrownStatus`, never a crash.
 */
function serve<Req, Res>(
  rpc: keyof typeof GROUP_ADMIN_PERMISSIONS,
  permissions: (request: Req) => readonly Permission[],
  authorizer: ClientAuthorizer | null,
  logger: Logger,
  work: (request: Req) => Answer<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const denial = authorizer === null ? null : denialFor(authorizer, call, permissions(call.request));
    if (denial !== null) return callback({ code: status.PERMISSION_DENIED, details: denial.details });
    let answer: Answer<Res>;
    try {
      answer = work(call.request);
    } catch (error) {
      const failure = thrownStatus(error);
      logger.error({ err: error, rpc }, 'RPC failed');
      return callback({ code: failure.code, details: failure.message });
    }
    if (answer.ok) return callback(null, answer.value);
    return callback({ code: answer.status.code, details: answer.status.message });
  };
}

/**
 * The `liftbridge_ts.admin.GroupAdmin` handlers (docs/consumers.md "Inspecting groups"): read-only
 * views of the groups from this server's applied metadata, behind the same authorization as
 * `proto.API` when it is on.
 */
export function groupAdminHandlers(inspection: ConsumerGroupInspection, authorizer: ClientAuthorizer | null, logger: Logger): GroupAdminHandlers {
  return {
    ListConsumerGroups: serve<admin.ListConsumerGroupsRequest, ProtoInit<admin.ListConsumerGroupsResponse>>(
      'ListConsumerGroups',
      GROUP_ADMIN_PERMISSIONS.ListConsumerGroups,
      authorizer,
      logger,
      () => ({
        ok: true,
        value: { groups: inspection.list().map((g) => ({ groupId: g.id, coordinator: g.coordinator, epoch: BigInt(g.epoch), memberCount: g.memberCount })) },
      }),
    ),
    DescribeConsumerGroup: serve<admin.DescribeConsumerGroupRequest, ProtoInit<admin.DescribeConsumerGroupResponse>>(
      'DescribeConsumerGroup',
      GROUP_ADMIN_PERMISSIONS.DescribeConsumerGroup,
      authorizer,
      logger,
      (request) => {
        const result = inspection.describe(request.groupId);
        return result.ok ? { ok: true, value: toDescribeResponse(result.value) } : { ok: false, status: groupAdminStatus(result.error) };
      },
    ),
  };
}

/** The GroupAdmin service, to serve beside `proto.API` (`GrpcApiServer`'s extensions). */
export function groupAdminService(inspection: ConsumerGroupInspection, authorizer: ClientAuthorizer | null, logger: Logger): ExtensionService {
  return { definition: groupAdminServiceDefinition, handlers: groupAdminHandlers(inspection, authorizer, logger) as unknown as UntypedServiceImplementation };
}
