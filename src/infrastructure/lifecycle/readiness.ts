import { Readiness } from '../../adapters/inbound/http/operability-http-server';
import { StorageIoError } from '../../application/errors/broker-errors';
import { describeStartFailure } from '../../application/partitions/partition-start-failures';
import { PartitionRef } from '../../domain/shared/ids';

/** Failed partition logs named one by one in /readyz; the rest are counted. */
const PARTITIONS_LISTED_MAX = 10;

export interface ReadinessInputs {
  readonly natsUp: boolean;
  /** Why start-up has not reached NATS yet (the last connection error); null once reached. */
  readonly natsUnreachable: string | null;
  readonly metadataLoaded: boolean;
  readonly serving: boolean;
  readonly partitionStorageFailures: readonly { readonly ref: PartitionRef; readonly failure: StorageIoError }[];
  readonly metadataStorageFailure: StorageIoError | null;
  /** Partitions this server should run and could not start (retried until they start). */
  readonly partitionsNotStarted: readonly { readonly ref: PartitionRef; readonly code: string; readonly message: string }[];
  /** Another server announcing itself as a bootstrap seed in our namespace (docs/cluster.md), if any. */
  readonly otherSeed: { readonly serverId: string; readonly namespace: string } | null;
}

/**
 * /readyz (docs/operability.md): connected to NATS, metadata loaded, gRPC serving, every storage
 * writable, every partition of this server started and no other bootstrap seed heard. Each failing
 * check adds a reason, prefixed with the check's name: a failed storage (a full disk) names the
 * partitions or the metadata log and the error code, until it recovered by itself; so does a
 * partition that could not start (out of descriptors), until a retry started it.
 */
export function readinessOf(inputs: ReadinessInputs): Readiness {
  const reasons: string[] = [];
  if (inputs.natsUnreachable !== null) reasons.push(`nats: ${inputs.natsUnreachable}`);
  else if (!inputs.natsUp) reasons.push('nats: a NATS connection is down');
  if (!inputs.metadataLoaded) reasons.push('metadata: not loaded yet (this broker is not registered in it)');
  if (!inputs.serving) reasons.push('grpc: not serving (starting or stopping)');
  const failed = inputs.partitionStorageFailures;
  for (const { ref, failure } of failed.slice(0, PARTITIONS_LISTED_MAX)) {
    reasons.push(`storage: partition log ${ref.stream}/${ref.partition} cannot write (${failure.code}); it refuses appends until it recovered`);
  }
  if (failed.length > PARTITIONS_LISTED_MAX) reasons.push(`storage: ${failed.length - PARTITIONS_LISTED_MAX} more partition logs cannot write`);
  const metadata = inputs.metadataStorageFailure;
  if (metadata !== null) reasons.push(`storage: metadata log cannot save (${metadata.code}); metadata changes are refused until it recovered`);
  const notStarted = inputs.partitionsNotStarted;
  for (const failure of notStarted.slice(0, PARTITIONS_LISTED_MAX)) {
    reasons.push(`partitions: partition ${failure.ref.stream}/${failure.ref.partition} could not start (${describeStartFailure(failure)}); it is retried`);
  }
  if (notStarted.length > PARTITIONS_LISTED_MAX) reasons.push(`partitions: ${notStarted.length - PARTITIONS_LISTED_MAX} more partitions could not start`);
  const seed = inputs.otherSeed;
  if (seed !== null) reasons.push(`bootstrap: server ${seed.serverId} also announces itself as a bootstrap seed in namespace ${seed.namespace}`);
  return {
    checks: {
      nats: inputs.natsUp,
      metadata: inputs.metadataLoaded,
      grpc: inputs.serving,
      storage: failed.length === 0 && metadata === null,
      partitions: notStarted.length === 0,
      bootstrap: seed === null,
    },
    reasons,
  };
}
