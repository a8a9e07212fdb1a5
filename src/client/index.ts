/**
 * liftbridge-ts/client: a TypeScript client for Liftbridge-compatible servers (docs/client.md).
 */
export { LiftbridgeClient } from './liftbridge-client';
export type { ClientOptions, PartitionsOption } from './liftbridge-client';
export type { ClientTlsOptions } from './tls-credentials';
export { AsyncPublisher } from './async-publisher';
export type { AsyncPublisherOptions, PublishTicket } from './async-publisher';
export { Subscription } from './subscription';
export { DurableConsumer } from './durable-consumer';
export { GroupConsumer, groupCursorId } from './group-consumer';
export type { GroupConsumerOptions, GroupClient, GroupTimers } from './group-consumer';
export { ConsumerGroupAdmin } from './consumer-group-admin';
export type { ConsumerGroupAdminOptions, ConsumerGroupMember, ConsumerGroupSummary, DescribeConsumerGroupResponse, MemberStreamAssignment } from './consumer-group-admin';
export type { DurableConsumerOptions, CursorClient, CheckpointTimer } from './durable-consumer';
export { Metadata } from './metadata-cache';
export { byKey, roundRobin, explicit, crc32Ieee } from './partitioner';
export type { Partitioner, PartitionContext } from './partitioner';
export type { RetryPolicy } from './retry';
export * from './errors';
export { AckPolicy, StartPosition, StopPosition } from './types';
export type {
  Ack,
  Broker,
  Bytes,
  CreateStreamOptions,
  CursorAddress,
  FetchMetadataResponse,
  PartitionMetadata,
  PublishOptions,
  ReceivedMessage,
  StreamMetadata,
  SubscribeOptions,
} from './types';
