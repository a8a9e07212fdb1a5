import { Readiness } from '../../adapters/inbound/http/operability-http-server';
import { StorageIoError } from '../../application/errors/broker-errors';
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
  /** Another server announcing itself as a bootstrap seed in our namespace (docs/cluster.md), if any. */
  readonly otherSeed: { readonly serverId: string; readonly namespace: string } | null;
}

/**
 * /readyz (docs/operability.md): connected to NATS, metadata loaded, gRPC serving, every storage
 * writable and no other bootstrap seed heard. Each failing check adds a reason, prefixed with the
 * check's name: a failed storage (a full disk) names the partitions or the metadata log and the
 * error code, until it recovered by itself.
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
  const seed = inputs.otherSeed;
  if (seed !== null) reasons.push(`bootstrap: server ${seed.serverId} also announces itself as a bootstrap seed in namespace ${seed.namespace}`);
  return {
    checks: {
      nats: inputs.natsUp,
      metadata: inputs.metadataLoaded,
      grpc: inputs.serving,
      storage: failed.length === 0 && metadata === null,
      bootstrap: seed === null,
    },
    reasons,
  };
}
