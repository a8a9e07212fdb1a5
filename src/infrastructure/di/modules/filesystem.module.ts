import { ContainerModule } from 'inversify';
import { Logger } from '../../../application/ports/logger.port';
import { StorageIoError } from '../../../application/errors/broker-errors';
import { PartitionLogStore } from '../../../application/ports/partition-log.port';
import { TOKENS } from '../../../application/tokens';
import { DEFAULT_OPEN_FILES_MAX, FilesystemPartitionLogStore } from '../../../adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';

/** What a storage adapter factory gets (docs/custom-storage.md). */
export interface StorageContext {
  readonly dataDir: string;
  readonly logger: Logger;
  /** Report every failed write or sync here (the `liftbridge_storage_io_errors_total` metric). */
  readonly onIoError: (error: StorageIoError) => void;
  /** Descriptors partition logs should keep open at most (`streams.open.files.max`, or derived from the process limit). */
  readonly openFilesMax: number;
}

export type PartitionLogStoreFactory = (context: StorageContext) => PartitionLogStore;

export const filesystemPartitionLogStore: PartitionLogStoreFactory = ({ dataDir, logger, onIoError, openFilesMax }) =>
  new FilesystemPartitionLogStore({ dataDir, logger, onIoError, openFilesMax });

/**
 * Partition logs under the data directory (the metadata log is the cluster module's). The partition-log
 * store is the published extension point: pass your own factory to use another storage adapter.
 */
export const filesystemModule = (
  dataDir: string,
  logger: Logger,
  partitionLogStore: PartitionLogStoreFactory = filesystemPartitionLogStore,
  onIoError: (error: StorageIoError) => void = () => undefined,
  openFilesMax: number = DEFAULT_OPEN_FILES_MAX,
): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.PartitionLogStore).toConstantValue(partitionLogStore({ dataDir, logger: logger.child({ component: 'commit-log' }), onIoError, openFilesMax }));
  });
