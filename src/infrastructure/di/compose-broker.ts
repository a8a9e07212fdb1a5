import type { NatsConnection } from 'nats';
import { MetadataService } from '../../application/metadata/metadata-service';
import { RaftMetadataLog } from '../../application/metadata/raft-metadata-log';
import { PartitionSupervisor } from '../../application/partitions/partition-supervisor';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import { ServerSettings } from '../../application/server-settings';
import { GrpcApiServer } from '../../adapters/inbound/grpc/grpc-api-server';
import { StreamingCalls } from '../../adapters/inbound/grpc/streaming-calls';
import { AesValueEncryption } from '../../adapters/outbound/crypto/aes-value-encryption';
import { FilesystemRaftStorage } from '../../adapters/outbound/filesystem/raft/filesystem-raft-storage';
import { NoMetrics } from '../../adapters/outbound/metrics/no-metrics';
import { PrometheusMetrics } from '../../adapters/outbound/metrics/prometheus-metrics';
import { NatsClusterChannel } from '../../adapters/outbound/nats/nats-cluster-channel';
import { NatsReplicationTransport } from '../../adapters/outbound/nats/nats-replication-transport';
import { BrokerConfig } from '../config/broker-config';
import { ServerLifecycle } from '../lifecycle/boot-sequence';
import type { OpenedCluster } from '../lifecycle/cluster-resources';
import type { InternalTraffic } from '../lifecycle/internal-traffic';
import { logReplayedMetadata } from '../logging/optional-log-lines';
import { createContainer } from './create-container';
import { clusterModule } from './modules/cluster.module';
import { filesystemModule, PartitionLogStoreFactory } from './modules/filesystem.module';
import { grpcModule, GrpcApiOptions } from './modules/grpc.module';
import { natsModule } from './modules/nats.module';
import { raftModule } from './modules/raft.module';
import { systemModule } from './modules/system.module';

/** Prometheus metrics when `metrics.enabled`; needed before the container (the HTTP server and NATS report to it). */
export const brokerMetrics = (config: BrokerConfig): PrometheusMetrics | NoMetrics => (config.metrics.enabled ? new PrometheusMetrics() : new NoMetrics());

export interface BrokerParts {
  readonly config: BrokerConfig;
  readonly settings: ServerSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Partition-log descriptors at most (checked at start). */
  readonly openFilesMax: number;
  readonly partitionLogStore?: PartitionLogStoreFactory;
  /** The client API's TLS and authorization, opened before everything else. */
  readonly api: Pick<GrpcApiOptions, 'certificates' | 'authorizer'>;
  /** Client traffic's connections. */
  readonly nats: { readonly streams: NatsConnection; readonly publishes: NatsConnection };
  readonly cluster: OpenedCluster;
  readonly internal: InternalTraffic;
}

/** What the broker's lifecycle shell uses of its container. */
export interface BrokerRoot {
  readonly lifecycle: ServerLifecycle;
  readonly partitions: PartitionSupervisor;
  readonly metadataLog: RaftMetadataLog;
  readonly grpc: GrpcApiServer;
  readonly calls: StreamingCalls;
  /** Adapters the container built, to close in this order once the services stopped. */
  readonly adapters: readonly { readonly name: string; close(): Promise<void> }[];
}

/**
 * The production composition (docs/architecture.md "Composition"): every collaborator of a broker
 * bound in the container from the resources opened before it, on the one bound clock and
 * scheduler. Resolves what the broker shell needs and wires what must see the metadata from
 * its first replayed entry.
 */
export function composeBroker(parts: BrokerParts): BrokerRoot {
  const { config, cluster } = parts;
  const container = createContainer({
    settings: parts.settings,
    logger: parts.logger,
    metrics: parts.metrics,
    encryption: new AesValueEncryption(config.streams.encryptionKey),
    duties: { partitions: true, raftGroup: cluster.plan.mode === 'join' ? 'join' : 'member' },
    adapters: [
      systemModule,
      filesystemModule({ dataDir: config.dataDir, partitionLogStore: parts.partitionLogStore, openFilesMax: parts.openFilesMax }),
      natsModule(parts.nats),
      raftModule({
        dir: cluster.raftDir,
        plan: cluster.plan,
        transport: cluster.raftTransport,
        seed: config.clustering.raftSeed,
        snapshotThreshold: config.clustering.raftSnapshotThreshold,
        logger: cluster.raftLogger,
      }),
      clusterModule({ raft: cluster.raftConnection, replication: cluster.replicationConnection, internal: parts.internal }),
      grpcModule({
        host: config.listen.host,
        port: config.listen.port,
        maxReceiveMessageBytes: config.clustering.replicationMaxBytes + 64 * 1024,
        ...parts.api,
      }),
    ],
  });
  const metadata = container.get(MetadataService);
  const partitions = container.get(PartitionSupervisor);
  const metadataLog = container.get(RaftMetadataLog);
  parts.metrics.watchStorageFailures(() => ({ partitionLogs: partitions.storageFailures().length, metadataLog: metadataLog.storageFailure === null ? 0 : 1 }));
  metadataLog.setSnapshotSource(() => metadata.state);
  if (config.logging.recovery) logReplayedMetadata(metadata.applied$, parts.logger.child({ component: 'recovery' }));
  const storage = container.get(FilesystemRaftStorage);
  const channel = container.get(NatsClusterChannel);
  const replication = container.get(NatsReplicationTransport);
  return {
    lifecycle: container.get(ServerLifecycle),
    partitions,
    metadataLog,
    grpc: container.get(GrpcApiServer),
    calls: container.get(StreamingCalls),
    adapters: [
      // Created by the container, so closed here (after the metadata log): tests reopen a log on the same storage.
      { name: 'raft-storage', close: () => storage.close() },
      { name: 'cluster-channel', close: () => channel.close() },
      { name: 'replication', close: () => replication.close() },
    ],
  };
}
