import * as grpc from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type * as api from '../protocol/api-types';
import { AckPolicy } from '../protocol/api-types';
import type { ApiClient } from '../protocol/api-service-definition';
import { AsyncPublisher, AsyncPublisherOptions } from './async-publisher';
import { ConnectionPool } from './connection-pool';
import { CorrelationIds } from './correlation-id';
import { DurableConsumer, DurableConsumerOptions } from './durable-consumer';
import { GroupConsumer, GroupConsumerOptions } from './group-consumer';
import { observeIterable } from './observe-iterable';
import {
  BrokerUnavailableError,
  ClientClosedError,
  ErrorContext,
  LiftbridgeError,
  mapServiceError,
  NoSuchPartitionError,
  NoSuchStreamError,
} from './errors';
import { Metadata } from './metadata-cache';
import { crc32Ieee, Partitioner } from './partitioner';
import { toPublishRequest } from './publish-request';
import { DEFAULT_RETRY, RetryPolicy, withRetry } from './retry';
import type { ClientRouter, PublishRouting, PublishTarget } from './router';
import { Subscription } from './subscription';
import {
  Bytes,
  CreateStreamOptions,
  CursorAddress,
  PublishOptions,
  ReceivedMessage,
  SetCursorOptions,
  SubscribeOptions,
  toBuffer,
  toCreateStreamRequest,
  toSubscribeRequest,
} from './types';
import { callUnary } from './unary-call';
import { ClientTlsOptions, tlsCredentials } from './tls-credentials';

export interface ClientOptions {
  /** Seed addresses `host:port`; metadata then supplies every broker's address. */
  readonly servers: readonly string[];
  /** TLS that verifies the servers (and a client certificate for mTLS); see docs/client.md "TLS". */
  readonly tls?: ClientTlsOptions;
  /** grpc-js credentials of your own, instead of `tls`. Default (neither): plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: grpc.ClientOptions;
  /** Retries on UNAVAILABLE and not-leader answers. Default 6 attempts, 50 ms doubling to 1 s. */
  readonly retry?: Partial<RetryPolicy>;
  /** Deadline of admin and metadata RPCs. Default 10 s. */
  readonly rpcTimeoutMs?: number;
  /** Default ack timeout of publishes. Default 5 s (go-liftbridge AckWaitTime). */
  readonly ackWaitTimeMs?: number;
  /** How long a subscription keeps resubscribing after its stream broke. Default 30 s. */
  readonly resubscribeWaitMs?: number;
}

/** The stream of cursors on the servers (docs/consumers.md "Cursors"). */
const CURSORS_STREAM = '__cursors';

/** Pause/readonly target: every partition by default. */
export interface PartitionsOption {
  readonly partitions?: readonly number[];
}

/**
 * A Liftbridge client: metadata-aware routing, retries on broker loss and not-leader answers,
 * stream administration, publishing and subscribing. Create with `LiftbridgeClient.connect`.
 */
export class LiftbridgeClient {
  readonly retry: RetryPolicy;
  readonly ackWaitTimeMs: number;
  private readonly rpcTimeoutMs: number;
  private readonly resubscribeWaitMs: number;
  private readonly pool: ConnectionPool;
  private readonly seeds: readonly string[];
  private readonly ids = new CorrelationIds();
  private readonly publishers = new Set<AsyncPublisher>();
  private readonly subscriptions = new Set<Subscription>();
  private metadataValue: Metadata | null = null;
  private refreshing: Promise<Metadata> | null = null;
  private nextBroker = 0;
  private closed = false;
  private readonly router: ClientRouter;

  private constructor(options: ClientOptions) {
    if (options.servers.length === 0) throw new RangeError('at least one server address is required');
    this.seeds = [...options.servers];
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? 10_000;
    this.ackWaitTimeMs = options.ackWaitTimeMs ?? 5_000;
    this.resubscribeWaitMs = options.resubscribeWaitMs ?? 30_000;
    if (options.tls !== undefined && options.credentials !== undefined) throw new RangeError('give either tls or credentials, not both');
    const credentials = options.tls !== undefined ? tlsCredentials(options.tls) : (options.credentials ?? grpc.credentials.createInsecure());
    this.pool = new ConnectionPool(credentials, options.channelOptions);
    this.router = {
      retry: this.retry,
      ackWaitTimeMs: this.ackWaitTimeMs,
      connection: (address) => this.connection(address),
      tryPublishTarget: (stream, key, value, routing) => this.tryPublishTarget(stream, key, value, routing),
      publishTarget: (stream, key, value, routing) => this.publishTarget(stream, key, value, routing),
      partitionAddress: (stream, partition, isr) => this.partitionAddress(stream, partition, isr),
      refreshMetadata: async (streams) => {
        await this.refreshMetadata(streams);
      },
    };
  }

  /** Connects to the cluster: fetches metadata from the first reachable seed (with retries). */
  static async connect(options: ClientOptions): Promise<LiftbridgeClient> {
    const client = new LiftbridgeClient(options);
    try {
      await client.refreshMetadata();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** The cached metadata (refreshed on demand, not periodically). */
  get metadata(): Metadata {
    if (!this.metadataValue) throw new ClientClosedError('no metadata yet', undefined);
    return this.metadataValue;
  }

  /** Closes subscriptions, publishers (without waiting for acks) and connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.close();
    for (const publisher of this.publishers) void publisher.close(0);
    this.pool.close();
  }

  // ------------------------------------------------------------------------------------------
  // Metadata

  /** Fetches metadata (all streams, or the named ones) from any broker and updates the cache. */
  async fetchMetadata(streams: readonly string[] = []): Promise<api.FetchMetadataResponse> {
    const response = await this.anyBroker((c) => callUnary(c, c.fetchMetadata, { streams, groups: [] }, this.rpcTimeoutMs), 'other');
    this.updateMetadata(response, streams);
    return response;
  }

  /** Re-reads metadata; concurrent refreshes share one RPC. */
  refreshMetadata(streams: readonly string[] = []): Promise<Metadata> {
    if (this.refreshing && streams.length === 0) return this.refreshing;
    const refresh = this.fetchMetadata(streams).then(() => this.metadata);
    if (streams.length === 0) {
      this.refreshing = refresh;
      const clear = (): void => {
        if (this.refreshing === refresh) this.refreshing = null;
      };
      refresh.then(clear, clear);
    }
    return refresh;
  }

  /** PartitionMetadata from the partition leader (docs/protocol.md "FetchPartitionMetadata"), with leader retries. */
  async fetchPartitionMetadata(stream: string, partition = 0): Promise<api.PartitionMetadata> {
    const response = await this.leaderCall(
      stream,
      partition,
      (c) => callUnary(c, c.fetchPartitionMetadata, { stream, partition }, this.rpcTimeoutMs),
      'partition-metadata',
    );
    if (!response.metadata) throw new NoSuchPartitionError(`no metadata for ${stream}/${partition}`, grpc.status.NOT_FOUND);
    return response.metadata;
  }

  // ------------------------------------------------------------------------------------------
  // Cursors (docs/consumers.md "Cursors")

  /** Stores `offset` as cursor `id` of `stream`/`partition`, on the leader of the owning `__cursors` partition, with leader retries. */
  /**
   * Stores `offset` as cursor `id` of `stream`/`partition`. `attemptIf`, asked before every attempt
   * (the first and each retry), stops the write once it is no longer wanted: a group member does
   * not retry a checkpoint of a partition that moved to another member meanwhile.
   */
  async setCursor(cursor: CursorAddress & { readonly offset: bigint | number }, options: SetCursorOptions = {}): Promise<void> {
    const request = { cursorId: cursor.id, stream: cursor.stream, partition: cursor.partition ?? 0, offset: BigInt(cursor.offset) };
    await this.cursorCall(request, (c) => {
      if (options.attemptIf?.() === false) throw new LiftbridgeError(`cursor ${cursor.id} of ${cursor.stream}/${request.partition}: write no longer wanted`, undefined, false);
      return callUnary(c, c.setCursor, request, this.rpcTimeoutMs);
    });
  }

  /** The offset stored as cursor `id` of `stream`/`partition`; -1n when it was never set. */
  async fetchCursor(cursor: CursorAddress): Promise<bigint> {
    const request = { cursorId: cursor.id, stream: cursor.stream, partition: cursor.partition ?? 0 };
    const response = await this.cursorCall(request, (c) => callUnary(c, c.fetchCursor, request, this.rpcTimeoutMs));
    return response.offset;
  }

  /** A consumer of one partition that resumes from its cursor and checkpoints it (docs/consumers.md "Cursors"). */
  durableConsumer(options: DurableConsumerOptions): DurableConsumer {
    return new DurableConsumer(this, options);
  }

  /** The durable consumer as a cold Observable: a message is processed once `next` returned for it; unsubscribing checkpoints it. */
  durableConsumer$(options: DurableConsumerOptions): Observable<ReceivedMessage> {
    return observeIterable(() => this.durableConsumer(options));
  }

  /** A call to the leader of the `__cursors` partition that owns the cursor: CRC-32 IEEE of its key, as the servers compute it. */
  private async cursorCall<T>(cursor: { readonly cursorId: string; readonly stream: string; readonly partition: number }, fn: (client: ApiClient) => Promise<T>): Promise<T> {
    let partitions = this.metadata.partitionCount(CURSORS_STREAM);
    if (partitions === undefined) partitions = (await this.refreshMetadata([CURSORS_STREAM])).partitionCount(CURSORS_STREAM);
    if (partitions === undefined || partitions === 0) throw new NoSuchStreamError('cursors are disabled on the servers (no __cursors stream)', grpc.status.NOT_FOUND);
    const owner = crc32Ieee(`${cursor.cursorId},${cursor.stream},${cursor.partition}`) % partitions;
    return this.leaderCall(CURSORS_STREAM, owner, fn, 'other');
  }

  // ------------------------------------------------------------------------------------------
  // Consumer groups (docs/consumers.md "Consumer groups")

  /** A member of consumer group `groupId` reading `streams`, as go-liftbridge's Consumer; iterate it, close it to leave. */
  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new GroupConsumer(this, options);
  }

  /** The group consumer as a cold Observable: subscribing joins, unsubscribing checkpoints and leaves. */
  groupConsumer$(options: GroupConsumerOptions): Observable<ReceivedMessage> {
    return observeIterable(() => this.groupConsumer(options));
  }

  joinConsumerGroup(groupId: string, consumerId: string, streams: readonly string[]): Promise<api.JoinConsumerGroupResponse> {
    return this.anyBroker((c) => callUnary(c, c.joinConsumerGroup, { groupId, consumerId, streams }, this.rpcTimeoutMs), 'other');
  }

  async fetchConsumerGroupAssignments(coordinator: string, groupId: string, consumerId: string, epoch: bigint): Promise<api.FetchConsumerGroupAssignmentsResponse> {
    let address = this.metadata.brokerAddress(coordinator);
    if (address === undefined) address = (await this.refreshMetadata()).brokerAddress(coordinator);
    if (address === undefined) throw new BrokerUnavailableError(`no known address for coordinator ${coordinator}`, grpc.status.UNAVAILABLE, true);
    try {
      return await callUnary(this.connection(address), this.connection(address).fetchConsumerGroupAssignments, { groupId, consumerId, epoch }, this.rpcTimeoutMs);
    } catch (error) {
      throw mapServiceError(error, 'other');
    }
  }

  async fetchGroupMetadata(groupId: string): Promise<{ readonly coordinator: string; readonly epoch: bigint } | null> {
    const response = await this.anyBroker((c) => callUnary(c, c.fetchMetadata, { streams: [], groups: [groupId] }, this.rpcTimeoutMs), 'other');
    const group = response.groupMetadata.find((g) => g.groupId === groupId && g.coordinator !== '');
    return group === undefined ? null : { coordinator: group.coordinator, epoch: group.epoch };
  }

  async reportConsumerGroupCoordinator(groupId: string, consumerId: string, coordinator: string, epoch: bigint): Promise<void> {
    await this.anyBroker((c) => callUnary(c, c.reportConsumerGroupCoordinator, { groupId, consumerId, coordinator, epoch }, this.rpcTimeoutMs), 'other');
  }

  async leaveConsumerGroup(groupId: string, consumerId: string): Promise<void> {
    await this.anyBroker((c) => callUnary(c, c.leaveConsumerGroup, { groupId, consumerId }, this.rpcTimeoutMs), 'other');
  }

  // ------------------------------------------------------------------------------------------
  // Administration

  /** Creates a stream; StreamExistsError if the name is taken. */
  async createStream(name: string, subject: string, options: CreateStreamOptions = {}): Promise<void> {
    const request = toCreateStreamRequest(name, subject, options);
    await this.anyBroker((c) => callUnary(c, c.createStream, request, this.rpcTimeoutMs), 'create');
    await this.refreshMetadata([name]).catch(() => undefined);
  }

  /** Deletes a stream; NoSuchStreamError if it does not exist. */
  async deleteStream(name: string): Promise<void> {
    await this.anyBroker((c) => callUnary(c, c.deleteStream, { name }, this.rpcTimeoutMs), 'delete');
    await this.refreshMetadata([name]).catch(() => undefined);
  }

  /** Pauses partitions (all by default); `resumeAll` resumes every partition on the next publish to any. */
  async pauseStream(name: string, options: PartitionsOption & { readonly resumeAll?: boolean } = {}): Promise<void> {
    const request = { name, partitions: options.partitions ?? [], resumeAll: options.resumeAll ?? false };
    await this.anyBroker((c) => callUnary(c, c.pauseStream, request, this.rpcTimeoutMs), 'pause');
  }

  /** Sets (or with `readonly: false` clears) the readonly flag of partitions (all by default). */
  async setStreamReadonly(name: string, options: PartitionsOption & { readonly readonly?: boolean } = {}): Promise<void> {
    const request = { name, partitions: options.partitions ?? [], readonly: options.readonly ?? true };
    await this.anyBroker((c) => callUnary(c, c.setStreamReadonly, request, this.rpcTimeoutMs), 'readonly');
  }

  // ------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Publishes one message to the partition leader and resolves to its ack (`undefined` with
   * AckPolicy.NONE). Retries on UNAVAILABLE only (a timed-out publish may have been written).
   */
  async publish(stream: string, value: Bytes, options: PublishOptions = {}): Promise<api.Ack | undefined> {
    const key = toBuffer(options.key);
    const body = toBuffer(value);
    const correlationId = options.correlationId ?? this.ids.next();
    const timeoutMs = options.timeoutMs ?? this.ackWaitTimeMs;
    const response = await withRetry(
      this.retry,
      async () => {
        const target = await this.publishTarget(stream, key, body, options);
        const request = toPublishRequest(stream, target.partition, key, body, correlationId, options);
        const connection = this.connection(target.address);
        try {
          return await callUnary(connection, connection.publish, request, timeoutMs);
        } catch (error) {
          throw mapServiceError(error, 'publish');
        }
      },
      (error) => error instanceof BrokerUnavailableError,
      () => this.refreshMetadata().then(() => undefined),
    );
    return response.ack;
  }

  /**
   * Publishes to a raw NATS subject (docs/protocol.md "PublishToSubject"): no stream lookup or checks; the
   * first ack from any stream on that subject is returned as is (its `ackError` is not converted).
   * `undefined` with AckPolicy.NONE or when no stream acked in time is an AckTimeoutError.
   */
  async publishToSubject(
    subject: string,
    value: Bytes,
    options: Omit<PublishOptions, 'partition' | 'partitioner' | 'expectedOffset'> = {},
  ): Promise<api.Ack | undefined> {
    const headers: Record<string, Buffer> = {};
    for (const [name, v] of Object.entries(options.headers ?? {})) headers[name] = toBuffer(v);
    const request = {
      subject,
      key: toBuffer(options.key),
      value: toBuffer(value),
      headers,
      ackInbox: '',
      correlationId: options.correlationId ?? this.ids.next(),
      ackPolicy: options.ackPolicy ?? AckPolicy.LEADER,
    };
    const timeoutMs = options.timeoutMs ?? this.ackWaitTimeMs;
    const response = await this.anyBroker((c) => callUnary(c, c.publishToSubject, request, timeoutMs), 'publish');
    return response.ack;
  }

  /** A pipelined publisher on PublishAsync; close it (or the client) when done. */
  asyncPublisher(options: AsyncPublisherOptions = {}): AsyncPublisher {
    this.assertOpen();
    const publisher: AsyncPublisher = new AsyncPublisher(this.router, options, () => this.publishers.delete(publisher));
    this.publishers.add(publisher);
    return publisher;
  }

  // ------------------------------------------------------------------------------------------
  // Subscribing

  /** Subscribes to one partition; iterate with `for await`, stop with `close()` or `break`. */
  subscribe(stream: string, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const subscription: Subscription = new Subscription(
      this.router,
      toSubscribeRequest(stream, options),
      { highWaterMark: options.highWaterMark ?? 512, resubscribeWaitMs: this.resubscribeWaitMs },
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The same subscription as a cold rxjs Observable: subscribing starts it, unsubscribing closes it. */
  subscribe$(stream: string, options: SubscribeOptions = {}): Observable<ReceivedMessage> {
    return observeIterable(() => this.subscribe(stream, options));
  }

  // ------------------------------------------------------------------------------------------
  // Routing

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('client closed', undefined);
  }

  private connection(address: string): ApiClient {
    this.assertOpen();
    return this.pool.get(address);
  }

  private updateMetadata(response: api.FetchMetadataResponse, requested: readonly string[]): void {
    const now = Date.now();
    this.metadataValue = this.metadataValue ? this.metadataValue.merge(response, requested, now) : new Metadata(response, now);
  }

  /** Known broker addresses then the seeds, without duplicates; rotated between calls. */
  private candidateAddresses(): string[] {
    const known = this.metadataValue?.addresses() ?? [];
    const all = [...new Set([...known, ...this.seeds])];
    const start = this.nextBroker++ % all.length;
    return [...all.slice(start), ...all.slice(0, start)];
  }

  /** Any-broker RPC (go-liftbridge's rule, docs/client.md "Connecting, routing and retries"): on UNAVAILABLE try the next broker. */
  private anyBroker<T>(fn: (client: ApiClient) => Promise<T>, context: ErrorContext): Promise<T> {
    this.assertOpen();
    let addresses: string[] = [];
    return withRetry(
      this.retry,
      async (n) => {
        if (n === 0 || addresses.length === 0) addresses = this.candidateAddresses();
        const address = addresses[n % addresses.length]!;
        try {
          return await fn(this.connection(address));
        } catch (error) {
          throw mapServiceError(error, context);
        }
      },
      (error) => error instanceof BrokerUnavailableError && !this.closed,
    );
  }

  /** Leader RPC: retried on UNAVAILABLE and not-leader answers, refreshing metadata each time. */
  private leaderCall<T>(stream: string, partition: number, fn: (client: ApiClient) => Promise<T>, context: ErrorContext): Promise<T> {
    this.assertOpen();
    return withRetry(
      this.retry,
      async () => {
        const address = await this.partitionAddress(stream, partition, false);
        try {
          return await fn(this.connection(address));
        } catch (error) {
          throw mapServiceError(error, context);
        }
      },
      // UNAVAILABLE, not-leader (FAILED_PRECONDITION) and deadline errors are marked retriable.
      (error) => !this.closed && error instanceof LiftbridgeError && error.retriable,
      () => this.refreshMetadata().then(() => undefined),
    );
  }

  private async partitionAddress(stream: string, partition: number, isrReplica: boolean): Promise<string> {
    let metadata = this.metadata;
    if (!metadata.stream(stream)) metadata = await this.refreshMetadata([stream]);
    const s = metadata.stream(stream);
    if (!s) throw new NoSuchStreamError(`no such stream: ${stream}`, grpc.status.NOT_FOUND);
    if (!s.partitions[partition]) throw new NoSuchPartitionError(`no such partition: ${partition}`, grpc.status.NOT_FOUND);
    const address = metadata.leaderAddress(stream, partition, isrReplica);
    if (!address) throw new BrokerUnavailableError(`no known leader for ${stream}/${partition}`, grpc.status.UNAVAILABLE, true);
    return address;
  }

  private choosePartition(stream: string, key: Buffer, value: Buffer, routing: PublishRouting, partitions: number): number {
    if (routing.partition !== undefined) return routing.partition;
    const partitioner: Partitioner | undefined = routing.partitioner;
    return partitioner ? partitioner({ stream, key, value, partitions }) : 0;
  }

  private tryPublishTarget(stream: string, key: Buffer, value: Buffer, routing: PublishRouting): PublishTarget | undefined {
    const metadata = this.metadataValue;
    const count = metadata?.partitionCount(stream);
    if (!metadata || count === undefined) return undefined;
    const partition = this.choosePartition(stream, key, value, routing, count);
    const address = metadata.leaderAddress(stream, partition) ?? this.candidateAddresses()[0]!;
    return { partition, address };
  }

  private async publishTarget(stream: string, key: Buffer, value: Buffer, routing: PublishRouting): Promise<PublishTarget> {
    const cached = this.tryPublishTarget(stream, key, value, routing);
    if (cached) return cached;
    await this.refreshMetadata([stream]);
    const target = this.tryPublishTarget(stream, key, value, routing);
    if (!target) throw new NoSuchStreamError(`no such stream: ${stream}`, grpc.status.NOT_FOUND);
    return target;
  }
}
