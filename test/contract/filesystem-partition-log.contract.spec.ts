import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/application/ports/logger.port';
import { FilesystemPartitionLogStore } from '../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { describePartitionLogContract } from './partition-log.contract';
import { PowerLossFileSystem } from '../support/power-loss/power-loss-file-system';

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

// The same adapter on the simulated disk of the power-loss tests: the disk behaves like Node's for
// everything the contract checks, and it can be made full (power cuts:
// test/unit/adapters/filesystem/commit-log-power-loss.spec.ts).
describePartitionLogContract('filesystem on the power-loss disk', async () => {
  const disk = new PowerLossFileSystem({ seed: 1 });
  const make = () => new FilesystemPartitionLogStore({ dataDir: '/data', logger: silentLogger, fs: disk.mount() });
  const storageFaults = {
    fill: () => void (disk.capacityBytes = disk.usedBytes()),
    free: () => void (disk.capacityBytes = Number.POSITIVE_INFINITY),
  };
  return { store: make(), reopen: async () => make(), cleanup: async () => undefined, storageFaults };
}, { storageFaults: true });

// The same adapter with a descriptor budget of one (docs/storage.md "Open files"): every operation
// opens the file it needs and closes the one used before, so no behaviour may depend on a file
// staying open.
describePartitionLogContract('filesystem with a budget of one open file', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'liftbridge-log-contract-budget-'));
  const make = () => new FilesystemPartitionLogStore({ dataDir, logger: silentLogger, openFilesMax: 1 });
  return {
    store: make(),
    reopen: async () => make(),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});
