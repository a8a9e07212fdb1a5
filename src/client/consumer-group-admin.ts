import * as grpc from '@grpc/grpc-js';
import type { ConsumerGroupSummary, DescribeConsumerGroupResponse } from '../protocol/group-admin-proto';
import { createGroupAdminClient, type GroupAdminClient } from '../protocol/group-admin-service-definition';
import { BrokerUnavailableError, isServiceError, LiftbridgeError, mapServiceError, NotAuthorizedError } from './errors';
import { DEFAULT_RETRY, RetryPolicy, withRetry } from './retry';
import { ClientTlsOptions, tlsCredentials } from './tls-credentials';
import { callUnary } from './unary-call';

export type { ConsumerGroupMember, ConsumerGroupSummary, DescribeConsumerGroupResponse, MemberStreamAssignment } from '../protocol/group-admin-proto';

export interface ConsumerGroupAdminOptions {
  /** Server addresses `host:port`; any of them answers. */
  readonly servers: readonly string[];
  readonly tls?: ClientTlsOptions;
  readonly retry?: Partial<RetryPolicy>;
  /** Deadline of each call; default 10 s. */
  readonly rpcTimeoutMs?: number;
}

/**
 * A client of liftbridge-ts's GroupAdmin extension (docs/consumers.md "Inspecting groups"): lists
 * the consumer groups and describes one. Not part of the Liftbridge API, so Go servers answer
 * UNIMPLEMENTED. Any server answers, from the metadata it has applied; an unreachable one is
 * skipped for the next, as LiftbridgeClient does for its any-broker calls.
 */
export class ConsumerGroupAdmin {
  private readonly retry: RetryPolicy;
  private readonly rpcTimeoutMs: number;
  private readonly clients: GroupAdminClient[];
  private next = 0;

  constructor(options: ConsumerGroupAdminOptions) {
    if (options.servers.length === 0) throw new RangeError('at least one server address is required');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? 10_000;
    const credentials = options.tls === undefined ? grpc.credentials.createInsecure() : tlsCredentials(options.tls);
    this.clients = [...new Set(options.servers)].map((address) => createGroupAdminClient(address, credentials));
  }

  /** Every consumer group, sorted by id. */
  async listConsumerGroups(): Promise<readonly ConsumerGroupSummary[]> {
    const response = await this.anyServer((c) => callUnary(c, c.listConsumerGroups, {}, this.rpcTimeoutMs));
    return response.groups;
  }

  /** One group with its members and their assignments; a LiftbridgeError with code NOT_FOUND for an unknown group. */
  describeConsumerGroup(groupId: string): Promise<DescribeConsumerGroupResponse> {
    return this.anyServer((c) => callUnary(c, c.describeConsumerGroup, { groupId }, this.rpcTimeoutMs));
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  private anyServer<T>(call: (client: GroupAdminClient) => Promise<T>): Promise<T> {
    return withRetry(
      this.retry,
      async () => {
        const client = this.clients[this.next++ % this.clients.length]!;
        try {
          return await call(client);
        } catch (error) {
          throw mapAdminError(error);
        }
      },
      (error) => error instanceof BrokerUnavailableError,
    );
  }
}

/** The extension refuses authorization with PERMISSION_DENIED; NOT_FOUND names a group, not a stream. */
function mapAdminError(error: unknown): Error {
  if (!isServiceError(error)) return error as Error;
  const message = error.details || error.message;
  if (error.code === grpc.status.PERMISSION_DENIED) return new NotAuthorizedError(message, error.code, false, { cause: error });
  if (error.code === grpc.status.NOT_FOUND) return new LiftbridgeError(message, error.code, false, { cause: error });
  if (error.code === grpc.status.UNIMPLEMENTED) {
    return new LiftbridgeError(`the server does not implement liftbridge-ts's GroupAdmin extension (${message})`, error.code, false, { cause: error });
  }
  return mapServiceError(error);
}
