import { Readiness } from '../../adapters/inbound/http/operability-http-server';
import { StorageIoError } from '../../application/errors/broker-errors';
import { PartitionRef } from '../../domain/shared/ids';

/** Failed partition logs named one by one in /readyz; the rest are counted. */
const PARTITIONS_LISTED_MAX = 10;

export interface ReadinessInputs {
  readonly natsUp: boolean;
  readonly metadataLoaded: boolean;
  readonly serving: boolean;
  readonly partitionStorageFailures: readonly { readonly ref: PartitionRef; readonly failure: StorageIoError }[];
  readonly metadataStorageFailure: StorageIoError | null;
}

/**
 * /readyz (docs/operability.md): connected to NATS, metadata loaded, gRPC serving, and every
 * storage writable. A failed storage (a full disk) makes the server not ready, with the partitions
 * or the metadata log named and the error code, until it recovered by itself.
 */
export function readinessOf(inputs: ReadinessInputs): Readiness {
  const reasons: string[] = [];
  if (!inputs.natsUp) reasons.push('nats: a NATS connection is down');
  if (!inputs.metadataLoaded) reasons.push('metadata: not loaded yet (this broker is not registered in it)');
  if (!inputs.serving) reasons.push('grpc: not serving (starting or stopping)');
  const failed = inputs.partitionStorageFailures;
  for (const { ref, failure } of failed.slice(0, PARTITIONS_LISTED_MAX)) {
    reasons.push(`storage: partition log ${ref.stream}/${ref.partition} cannot write (${failure.code}); it refuses appends until it recovered`);
  }
  if (failed.length > PARTITIONS_LISTED_MAX) reasons.push(`storage: ${failed.length - PARTITIONS_LISTED_MAX} more partition logs cannot write`);
  const metadata = inputs.metadataStorageFailure;
  if (metadata !== null) reasons.push(`storage: metadata log cannot save (${metadata.code}); metadata changes are refused until it recovered`);
  return {
    checks: { nats: inputs.natsUp, metadata: inputs.metadataLoaded, grpc: inputs.serving, storage: failed.length === 0 && metadata === null },
    reasons,
  };
}
