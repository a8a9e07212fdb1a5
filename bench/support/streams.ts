import * as grpc from '@grpc/grpc-js';
import type { ApiClient } from '../../src/protocol/api-service-definition';

const CALL_TIMEOUT_MS = 15_000;

export interface StreamReplication {
  readonly replicationFactor: number;
  /** Minimum ISR size for AckPolicy ALL; absent: the server's default. */
  readonly minIsr?: number;
}

/** CreateStream (one partition; replication factor 1 unless `replication` says otherwise) through the gRPC API. */
export function createStream(client: ApiClient, name: string, subject: string, replication: StreamReplication = { replicationFactor: 1 }): Promise<void> {
  const minIsr = replication.minIsr === undefined ? {} : { minIsr: { value: replication.minIsr } };
  return new Promise((resolve, reject) => {
    client.createStream(
      { name, subject, partitions: 1, replicationFactor: replication.replicationFactor, ...minIsr },
      { deadline: Date.now() + CALL_TIMEOUT_MS },
      (error) =>
        error ? reject(new Error(`CreateStream ${name} failed: ${grpc.status[error.code]} ${error.details}`)) : resolve(),
    );
  });
}

/** DeleteStream, best effort: the bench only frees disk space with it. */
export function deleteStream(client: ApiClient, name: string, progress: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    client.deleteStream({ name }, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error) => {
      if (error) progress(`  warning: DeleteStream ${name} failed: ${grpc.status[error.code]} ${error.details}`);
      resolve();
    });
  });
}
