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

export interface StorageOptions {
  readonly dataDir: string;
  /** The published extension point: your own storage adapter instead of the filesystem one. */
  readonly partitionLogStore?: PartitionLogStoreFactory;
  readonly openFilesMax?: number;
}

/**
 * The storage module: partition logs under the data directory (the metadata log is the raft
 * module's). Failed writes and syncs are counted by the bound `Metrics`.
 */
export const filesystemModule = (options: StorageOptions): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.PartitionLogStore)
      .toDynamicValue((ctx) => {
        const metrics = ctx.get(TOKENS.Metrics);
        const factory = options.partitionLogStore ?? filesystemPartitionLogStore;
        return factory({
          dataDir: options.dataDir,
          logger: ctx.get(TOKENS.Logger).child({ component: 'commit-log' }),
          onIoError: (error) => metrics.storageIoError('partition-log', error.code),
          openFilesMax: options.openFilesMax ?? DEFAULT_OPEN_FILES_MAX,
        });
      })
      .inSingletonScope();
  });
