import { ContainerModule } from 'inversify';
import * as path from 'node:path';
import { Logger } from '../../../application/ports/logger.port';
import { TOKENS } from '../../../application/tokens';
import { FilesystemPartitionLogStore } from '../../../adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { FilesystemMetadataLog } from '../../../adapters/outbound/filesystem/metadata/filesystem-metadata-log';

/** Partition logs and the single-node metadata log under the data directory. */
export const filesystemModule = (dataDir: string, logger: Logger): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.PartitionLogStore).toConstantValue(new FilesystemPartitionLogStore({ dataDir, logger: logger.child({ component: 'commit-log' }) }));
    bind(TOKENS.MetadataLog).toConstantValue(new FilesystemMetadataLog(path.join(dataDir, 'metadata'), logger.child({ component: 'metadata-log' })));
  });
