import { createMessageCodec, lazy, loadProtoRoot, type MessageCodec, type ProtoInit } from './proto-schema';

/**
 * TypeScript shapes and codecs of liftbridge-ts's admin extension (proto/liftbridge-ts-admin.proto,
 * package liftbridge_ts.admin), kept by hand like api-types.ts: field names as in the proto, 64-bit
 * integers as bigint (docs/consumers.md "Inspecting groups").
 */

export type ListConsumerGroupsRequest = Record<string, never>;

export interface ConsumerGroupSummary {
  readonly groupId: string;
  /** Broker id of the coordinator. */
  readonly coordinator: string;
  readonly epoch: bigint;
  readonly memberCount: number;
}

export interface ListConsumerGroupsResponse {
  readonly groups: readonly ConsumerGroupSummary[];
}

export interface DescribeConsumerGroupRequest {
  readonly groupId: string;
}

export interface MemberStreamAssignment {
  readonly stream: string;
  /** Ascending; empty when the member owns none of the stream's partitions. */
  readonly partitions: readonly number[];
}

export interface ConsumerGroupMember {
  readonly consumerId: string;
  readonly streams: readonly string[];
  /** One per stream, in the order of `streams`. */
  readonly assignments: readonly MemberStreamAssignment[];
}

export interface DescribeConsumerGroupResponse {
  readonly groupId: string;
  readonly coordinator: string;
  readonly epoch: bigint;
  /** Nanoseconds, as JoinConsumerGroupResponse.consumerTimeout. */
  readonly consumerTimeout: bigint;
  /** In join order, which the assignment depends on. */
  readonly members: readonly ConsumerGroupMember[];
}

const PACKAGE = 'liftbridge_ts.admin';

const groupAdminCodecs = lazy(() => {
  const root = loadProtoRoot('liftbridge-ts-admin.proto');
  return {
    listRequest: createMessageCodec<ListConsumerGroupsRequest>(root, `${PACKAGE}.ListConsumerGroupsRequest`),
    listResponse: createMessageCodec<ListConsumerGroupsResponse>(root, `${PACKAGE}.ListConsumerGroupsResponse`),
    describeRequest: createMessageCodec<DescribeConsumerGroupRequest>(root, `${PACKAGE}.DescribeConsumerGroupRequest`),
    describeResponse: createMessageCodec<DescribeConsumerGroupResponse>(root, `${PACKAGE}.DescribeConsumerGroupResponse`),
  } as const satisfies Record<string, MessageCodec<unknown>>;
});

export const encodeListConsumerGroupsRequest = (value: ProtoInit<ListConsumerGroupsRequest>): Buffer => groupAdminCodecs().listRequest.encode(value);
export const decodeListConsumerGroupsRequest = (bytes: Uint8Array): ListConsumerGroupsRequest => groupAdminCodecs().listRequest.decode(bytes);
export const encodeListConsumerGroupsResponse = (value: ProtoInit<ListConsumerGroupsResponse>): Buffer => groupAdminCodecs().listResponse.encode(value);
export const decodeListConsumerGroupsResponse = (bytes: Uint8Array): ListConsumerGroupsResponse => groupAdminCodecs().listResponse.decode(bytes);
export const encodeDescribeConsumerGroupRequest = (value: ProtoInit<DescribeConsumerGroupRequest>): Buffer => groupAdminCodecs().describeRequest.encode(value);
export const decodeDescribeConsumerGroupRequest = (bytes: Uint8Array): DescribeConsumerGroupRequest => groupAdminCodecs().describeRequest.decode(bytes);
export const encodeDescribeConsumerGroupResponse = (value: ProtoInit<DescribeConsumerGroupResponse>): Buffer => groupAdminCodecs().describeResponse.encode(value);
export const decodeDescribeConsumerGroupResponse = (bytes: Uint8Array): DescribeConsumerGroupResponse => groupAdminCodecs().describeResponse.decode(bytes);
