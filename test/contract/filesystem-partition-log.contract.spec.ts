import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/application/ports/logger.port';
import { FilesystemPartitionLogStore } from '../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { describePartitionLogContract } from './partition-log.contract';

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

describePartitionLogContract('filesystem', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-log-contract-'));
  const make = () => new FilesystemPartitionLogStore({ dataDir, logger: silentLogger });
  return {
    store: make(),
    reopen: async () => make(),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});
