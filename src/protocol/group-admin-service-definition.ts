import * as grpc from '@grpc/grpc-js';
import type { UnaryClientMethod } from './api-service-definition';
import * as admin from './group-admin-proto';
import type { ProtoInit } from './proto-schema';

/**
 * liftbridge-ts's `liftbridge_ts.admin.GroupAdmin` service (proto/liftbridge-ts-admin.proto) as a
 * grpc-js ServiceDefinition over our codecs, served beside `proto.API` on the same server; see
 * api-service-definition.ts for the conventions (proto method names as keys, camelCase aliases).
 */

export const GROUP_ADMIN_SERVICE_NAME = 'liftbridge_ts.admin.GroupAdmin';

export const groupAdminServiceDefinition: grpc.ServiceDefinition = Object.freeze({
  ListConsumerGroups: {
    path: `/${GROUP_ADMIN_SERVICE_NAME}/ListConsumerGroups`,
    requestStream: false,
    responseStream: false,
    requestSerialize: admin.encodeListConsumerGroupsRequest,
    requestDeserialize: admin.decodeListConsumerGroupsRequest,
    responseSerialize: admin.encodeListConsumerGroupsResponse,
    responseDeserialize: admin.decodeListConsumerGroupsResponse,
    originalName: 'listConsumerGroups',
  },
  DescribeConsumerGroup: {
    path: `/${GROUP_ADMIN_SERVICE_NAME}/DescribeConsumerGroup`,
    requestStream: false,
    responseStream: false,
    requestSerialize: admin.encodeDescribeConsumerGroupRequest,
    requestDeserialize: admin.decodeDescribeConsumerGroupRequest,
    responseSerialize: admin.encodeDescribeConsumerGroupResponse,
    responseDeserialize: admin.decodeDescribeConsumerGroupResponse,
    originalName: 'describeConsumerGroup',
  },
});

/** Handlers by proto method name. */
export type GroupAdminHandlers = {
  ListConsumerGroups: grpc.handleUnaryCall<admin.ListConsumerGroupsRequest, ProtoInit<admin.ListConsumerGroupsResponse>>;
  DescribeConsumerGroup: grpc.handleUnaryCall<admin.DescribeConsumerGroupRequest, ProtoInit<admin.DescribeConsumerGroupResponse>>;
};

/** A typed GroupAdmin client (camelCase methods). */
export interface GroupAdminClient extends grpc.Client {
  listConsumerGroups: UnaryClientMethod<admin.ListConsumerGroupsRequest, admin.ListConsumerGroupsResponse>;
  describeConsumerGroup: UnaryClientMethod<admin.DescribeConsumerGroupRequest, admin.DescribeConsumerGroupResponse>;
}

/** A GroupAdmin client for tools and tests; close it with `client.close()`. */
export function createGroupAdminClient(address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): GroupAdminClient {
  const Constructor = grpc.makeGenericClientConstructor(groupAdminServiceDefinition, GROUP_ADMIN_SERVICE_NAME);
  return new Constructor(address, credentials, options) as unknown as GroupAdminClient;
}
