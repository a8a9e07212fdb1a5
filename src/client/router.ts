import type { ApiClient } from '../protocol/api-service-definition';
import type { Partitioner } from './partitioner';
import type { RetryPolicy } from './retry';

/** Where a publish goes: the chosen partition and the address of a broker to send it to. */
export interface PublishTarget {
  readonly partition: number;
  readonly address: string;
}

/** What publishers and subscriptions need from the client: routing, connections, metadata refresh. */
export interface ClientRouter {
  readonly retry: RetryPolicy;
  readonly ackWaitTimeMs: number;
  connection(address: string): ApiClient;
  /** Synchronous when the stream is cached; `undefined` means "refresh metadata first". */
  tryPublishTarget(stream: string, key: Buffer, value: Buffer, options: PublishRouting): PublishTarget | undefined;
  publishTarget(stream: string, key: Buffer, value: Buffer, options: PublishRouting): Promise<PublishTarget>;
  /** Leader (or an ISR member) address of a partition, refreshing metadata when unknown. */
  partitionAddress(stream: string, partition: number, isrReplica: boolean): Promise<string>;
  refreshMetadata(streams?: readonly string[]): Promise<void>;
}

export interface PublishRouting {
  readonly partition?: number;
  readonly partitioner?: Partitioner;
}
