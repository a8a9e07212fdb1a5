import { ContainerModule } from 'inversify';
import { TOKENS } from '../../../application/tokens';
import { InMemoryClusterHub } from '../../../adapters/outbound/memory/in-memory-cluster-channel';
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
}

export const memoryModule = (adapters: MemoryAdapters): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.MetadataLog).toConstantValue(adapters.metadataLog);
    bind(TOKENS.PartitionLogStore).toConstantValue(adapters.partitionLogs);
    bind(TOKENS.MessageTransport).toConstantValue(adapters.transport);
    bind(TOKENS.ClusterChannel).toConstantValue((adapters.clusterHub ?? new InMemoryClusterHub()).connect());
  });
