import { status, type ServiceError } from '@grpc/grpc-js';
import { ConsumerGroupInspection } from '../../../../src/application/groups/group-inspection';
import type { MetadataService } from '../../../../src/application/metadata/metadata-service';
import type { ClientAuthorizer } from '../../../../src/application/ports/client-authorizer.port';
import type { ServerSettings } from '../../../../src/application/server-settings';
import { groupAdminHandlers, GROUP_ADMIN_PERMISSIONS } from '../../../../src/adapters/inbound/grpc/group-admin-handlers';
import { memberAssignment } from '../../../../src/domain/group/group-assignment';
import type { MetadataState } from '../../../../src/domain/metadata/metadata-state';
import * as admin from '../../../../src/protocol/group-admin-proto';
import { groupAdminServiceDefinition } from '../../../../src/protocol/group-admin-service-definition';
import { capturingLogger } from '../../../support/capturing-logger';
import { createStream, joinGroup, registerBroker, stateAfter } from '../../../support/metadata-mothers';

const CONSUMER_TIMEOUT_MS = 15_000;

/** Brokers a and b; orders (3 partitions) and audit (1); group g: c1 on both streams, then c2 on orders; group h: c3 on audit. */
const STATE = stateAfter(
  registerBroker('a'),
  registerBroker('b', 9293),
  createStream('orders', { partitions: 3 }),
  createStream('audit'),
  joinGroup('g', 'c1', 'orders', 'audit'),
  joinGroup('g', 'c2', 'orders'),
  joinGroup('h', 'c3', 'audit'),
);

function inspectionOf(state: MetadataState): ConsumerGroupInspection {
  const metadata = { state } as unknown as MetadataService;
  return new ConsumerGroupInspection(metadata, { groups: { consumerTimeoutMs: CONSUMER_TIMEOUT_MS, coordinatorTimeoutMs: 30_000 } } as unknown as ServerSettings);
}

/** An authorizer over a set of "subject object action" strings. */
const authorizerOf = (allowed: readonly string[]): ClientAuthorizer => ({
  policyVersion: 1,
  isAllowed: (subject, object, action) => allowed.includes(`${subject} ${object} ${action}`),
});

/** A unary call from a client whose verified certificate has this Common Name (null: none). */
const callFrom = (commonName: string | null, request: unknown) => ({
  request,
  getAuthContext: () => (commonName === null ? {} : { transportSecurityType: 'ssl', sslPeerCertificate: { subject: { CN: commonName } } }),
});

type Answer = { readonly error: Partial<ServiceError> | null; readonly value: unknown };

/** Calls a handler and returns what it answered, after a round trip through the wire codec of the response. */
function invoke(
  handlers: ReturnType<typeof groupAdminHandlers>,
  rpc: 'ListConsumerGroups' | 'DescribeConsumerGroup',
  request: unknown,
  commonName: string | null = null,
): Answer {
  let answer: Answer | null = null;
  const handler = handlers[rpc] as unknown as (call: unknown, callback: (error: Partial<ServiceError> | null, value?: unknown) => void) => void;
  handler(callFrom(commonName, request), (error, value) => {
    const definition = groupAdminServiceDefinition[rpc]!;
    answer = { error, value: value === undefined ? undefined : definition.responseDeserialize(definition.responseSerialize(value)) };
  });
  if (answer === null) throw new Error(`${rpc} did not answer synchronously`);
  return answer;
}

describe('GroupAdmin handlers (docs/consumers.md "Inspecting groups")', () => {
  const { logger } = capturingLogger();
  const handlers = groupAdminHandlers(inspectionOf(STATE), null, logger);

  it('lists every group sorted by id, with coordinator, epoch and member count', () => {
    const g = STATE.groups.get('g')!;
    const h = STATE.groups.get('h')!;
    expect(invoke(handlers, 'ListConsumerGroups', {})).toEqual({
      error: null,
      value: {
        groups: [
          { groupId: 'g', coordinator: g.coordinator, epoch: BigInt(g.epoch), memberCount: 2 },
          { groupId: 'h', coordinator: h.coordinator, epoch: BigInt(h.epoch), memberCount: 1 },
        ],
      },
    });
  });

  it('describes a group: members in join order, their streams and the partitions the coordinator assigns them', () => {
    const g = STATE.groups.get('g')!;
    const answer = invoke(handlers, 'DescribeConsumerGroup', { groupId: 'g' });
    expect(answer).toEqual({
      error: null,
      value: {
        groupId: 'g',
        coordinator: g.coordinator,
        epoch: BigInt(g.epoch),
        consumerTimeout: BigInt(CONSUMER_TIMEOUT_MS) * 1_000_000n,
        members: [
          { consumerId: 'c1', streams: ['audit', 'orders'], assignments: [{ stream: 'audit', partitions: [0] }, { stream: 'orders', partitions: [1] }] },
          // c1 already owns audit's partition, so c2 (less loaded) gets two of orders.
          { consumerId: 'c2', streams: ['orders'], assignments: [{ stream: 'orders', partitions: [0, 2] }] },
        ],
      },
    });
    // The same answer the coordinator gives each member (FetchConsumerGroupAssignments).
    const described = (answer.value as admin.DescribeConsumerGroupResponse).members;
    for (const member of described) {
      expect(member.assignments.map((a) => [a.stream, a.partitions])).toEqual([...memberAssignment(STATE, g, member.consumerId)]);
    }
  });

  it('answers NOT_FOUND naming an unknown group, and INVALID_ARGUMENT for no group id', () => {
    expect(invoke(handlers, 'DescribeConsumerGroup', { groupId: 'nope' })).toEqual({
      error: { code: status.NOT_FOUND, details: 'no such consumer group: nope' },
      value: undefined,
    });
    expect(invoke(handlers, 'DescribeConsumerGroup', { groupId: '' }).error).toEqual({ code: status.INVALID_ARGUMENT, details: 'No groupId provided' });
  });

  it('lists nothing when there are no groups', () => {
    const empty = groupAdminHandlers(inspectionOf(stateAfter(registerBroker('a'))), null, logger);
    expect(invoke(empty, 'ListConsumerGroups', {})).toEqual({ error: null, value: { groups: [] } });
  });
});

describe('GroupAdmin codecs (proto/liftbridge-ts-admin.proto)', () => {
  it('round-trip every field, 64-bit integers without loss', () => {
    const response: admin.DescribeConsumerGroupResponse = {
      groupId: 'g',
      coordinator: 'b',
      epoch: 2n ** 63n - 1n,
      consumerTimeout: 2n ** 62n + 1n,
      members: [{ consumerId: 'c', streams: ['s', 't'], assignments: [{ stream: 's', partitions: [0, 4095] }, { stream: 't', partitions: [] }] }],
    };
    expect(admin.decodeDescribeConsumerGroupResponse(admin.encodeDescribeConsumerGroupResponse(response))).toEqual(response);
    const list: admin.ListConsumerGroupsResponse = { groups: [{ groupId: 'g', coordinator: 'b', epoch: 2n ** 64n - 1n, memberCount: 3 }] };
    expect(admin.decodeListConsumerGroupsResponse(admin.encodeListConsumerGroupsResponse(list))).toEqual(list);
    expect(admin.decodeDescribeConsumerGroupRequest(admin.encodeDescribeConsumerGroupRequest({ groupId: 'g' }))).toEqual({ groupId: 'g' });
  });
});

describe('GroupAdmin under authorization (docs/security.md "Authorization")', () => {
  const { logger } = capturingLogger();
  const authorizer = authorizerOf(['ops * ListConsumerGroups', 'ops g DescribeConsumerGroup', 'reader * FetchMetadata']);
  const handlers = groupAdminHandlers(inspectionOf(STATE), authorizer, logger);

  it('needs actions of its own: ListConsumerGroups on *, DescribeConsumerGroup on the group id', () => {
    expect(GROUP_ADMIN_PERMISSIONS.ListConsumerGroups()).toEqual([{ object: '*', action: 'ListConsumerGroups' }]);
    expect(GROUP_ADMIN_PERMISSIONS.DescribeConsumerGroup({ groupId: 'g' })).toEqual([{ object: 'g', action: 'DescribeConsumerGroup' }]);
  });

  it('answers a client the policy grants', () => {
    expect(invoke(handlers, 'ListConsumerGroups', {}, 'ops').error).toBeNull();
    expect(invoke(handlers, 'DescribeConsumerGroup', { groupId: 'g' }, 'ops').error).toBeNull();
  });

  it('refuses with PERMISSION_DENIED what the policy does not grant (fail closed), naming the action', () => {
    expect(invoke(handlers, 'ListConsumerGroups', {}, 'reader')).toEqual({
      error: { code: status.PERMISSION_DENIED, details: 'The client is not authorized to call ListConsumerGroups on resource *' },
      value: undefined,
    });
    expect(invoke(handlers, 'DescribeConsumerGroup', { groupId: 'h' }, 'ops')).toEqual({
      error: { code: status.PERMISSION_DENIED, details: 'The client is not authorized to call DescribeConsumerGroup on resource h' },
      value: undefined,
    });
    // Refused before the group is looked up: an unknown group is not revealed as such.
    expect(invoke(handlers, 'DescribeConsumerGroup', { groupId: 'nope' }, 'ops').error?.code).toBe(status.PERMISSION_DENIED);
  });

  it('refuses a client without a verified identity', () => {
    expect(invoke(handlers, 'ListConsumerGroups', {}, null)).toEqual({
      error: { code: status.PERMISSION_DENIED, details: 'api: Failed to retrieve client ID' },
      value: undefined,
    });
  });
});
