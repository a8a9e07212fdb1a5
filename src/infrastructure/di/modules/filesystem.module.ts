import { ContainerModule } from 'inversify';
import * as path from 'node:path';
import { Logger } from '../../../application/ports/logger.port';
import { PartitionLogStore } from '../../../application/ports/partition-log.port';
import { TOKENS } from '../../../application/tokens';
import { FilesystemPartitionLogStore } from '../../../adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { FilesystemMetadataLog } from '../../../adapters/outbound/filesystem/metadata/filesystem-metadata-log';

/** What a storage adapter factory gets (docs/custom-storage.md). */
export interface StorageContext {
  readonly dataDir: string;
  readonly logger: Logger;
}

export type PartitionLogStoreFactory = (context: StorageContext) => PartitionLogStore;

export const filesystemPartitionLogStore: PartitionLogStoreFactory = ({ dataDir, logger }) =>
  new FilesystemPartitionLogStore({ dataDir, logger });

/**
 * Partition logs and the single-node metadata log under the data directory. The partition-log
 * store is the published extension point: pass your own factory to use another storage adapter.
 */
export const filesystemModule = (
  dataDir: string,
  logger: Logger,
  partitionLogStore: PartitionLogStoreFactory = filesystemPartitionLogStore,
): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.PartitionLogStore).toConstantValue(partitionLogStore({ dataDir, logger: logger.child({ component: 'commit-log' }) }));
    bind(TOKENS.MetadataLog).toConstantValue(new FilesystemMetadataLog(path.join(dataDir, 'metadata'), logger.child({ component: 'metadata-log' })));
  });
