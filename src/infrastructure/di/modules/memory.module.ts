import { ContainerModule } from 'inversify';
import { ALWAYS_HELD } from '../../../application/ports/ack-lease.port';
import { TOKENS } from '../../../application/tokens';
import { InMemoryClusterHub } from '../../../adapters/outbound/memory/in-memory-cluster-channel';
import { InMemoryReplicationHub } from '../../../adapters/outbound/memory/in-memory-replication-transport';
import { InMemoryMessageTransport } from '../../../adapters/outbound/memory/in-memory-message-transport';
import { InMemoryMetadataLog } from '../../../adapters/outbound/memory/in-memory-metadata-log';
import { InMemoryPartitionLogStore } from '../../../adapters/outbound/memory/in-memory-partition-log-store';

/** Adapters held in memory, for unit tests and the simulator; the same ports as production. */
export interface MemoryAdapters {
  readonly metadataLog: InMemoryMetadataLog;
  readonly partitionLogs: InMemoryPartitionLogStore;
  readonly transport: InMemoryMessageTransport;
  /** Shared by the servers of one in-memory cluster; a fresh hub when absent. */
  readonly clusterHub?: InMemoryClusterHub;
  /** Shared by the servers of one in-memory cluster; a fresh hub when absent. */
  readonly replicationHub?: InMemoryReplicationHub;
}

export const memoryModule = (adapters: MemoryAdapters, serverId = 'a'): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.ReplicationTransport).toConstantValue((adapters.replicationHub ?? new InMemoryReplicationHub()).connect(serverId));
    bind(TOKENS.MetadataLog).toConstantValue(adapters.metadataLog);
    bind(TOKENS.PartitionLogStore).toConstantValue(adapters.partitionLogs);
    bind(TOKENS.MessageTransport).toConstantValue(adapters.transport);
    bind(TOKENS.AckLease).toConstantValue(ALWAYS_HELD);
    bind(TOKENS.ClusterChannel).toConstantValue((adapters.clusterHub ?? new InMemoryClusterHub()).connect());
  });
