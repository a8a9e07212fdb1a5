import { Container } from 'inversify';
import { Logger } from '../../src/application/ports/logger.port';
import { Metrics } from '../../src/application/ports/metrics.port';
import { ServerSettings } from '../../src/application/server-settings';
import type { ValueEncryption } from '../../src/application/ports/value-encryption.port';
import { InMemoryMessageTransport } from '../../src/adapters/outbound/memory/in-memory-message-transport';
import { InMemoryMetadataLog } from '../../src/adapters/outbound/memory/in-memory-metadata-log';
import { InMemoryPartitionLogStore } from '../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { createContainer } from '../../src/infrastructure/di/create-container';
import { MemoryAdapters, memoryModule } from '../../src/infrastructure/di/modules/memory.module';
import { systemModule } from '../../src/infrastructure/di/modules/system.module';
import { ServerLifecycle } from '../../src/infrastructure/lifecycle/boot-sequence';

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Runs of in-memory servers in this test process: each gets its own boot id, as a restart does. */
let boots = 0;

export const memorySettings = (overrides: Partial<ServerSettings> = {}): ServerSettings => ({
  serverId: 'a',
  bootId: `boot${++boots}`,
  namespace: 'liftbridge-default',
  advertiseHost: 'localhost',
  advertisePort: 9292,
  batchMaxMessages: 1024,
  replicationMaxBytes: 1024 * 1024,
  metadataTimeoutMs: 5000,
  subscribeReadBytesMax: 64 * 1024,
  heartbeatIntervalMs: 1000,
  brokerTimeoutMs: 5000,
  ackLeaseMs: 1000,
  replication: { maxLagTimeMs: 15_000, fetchTimeoutMs: 3000, leaderTimeoutMs: 15_000, fetchWaitMs: 500 },
  streamDefaults: {
    retentionMaxBytes: 0,
    retentionMaxMessages: 0,
    retentionMaxAgeMs: 7 * 24 * 3600 * 1000,
    cleanerIntervalMs: 300_000,
    segmentMaxBytes: 1024 * 1024,
    segmentMaxAgeMs: 7 * 24 * 3600 * 1000,
    autoPauseTimeMs: 0,
    autoPauseDisableIfSubscribers: false,
    concurrencyControl: false,
    encryption: false,
    minIsr: 1,
    syncPolicy: 'always',
    syncIntervalMs: 1000,
  },
  cursors: { partitions: 0, replicationFactor: -1, autoPauseTimeMs: 0 },
  groups: { consumerTimeoutMs: 15_000, coordinatorTimeoutMs: 15_000 },
  ...overrides,
});

export const freshAdapters = (): MemoryAdapters => ({
  metadataLog: new InMemoryMetadataLog(),
  partitionLogs: new InMemoryPartitionLogStore(),
  transport: new InMemoryMessageTransport(),
});

/** A broker's application layer wired by the real composition root with in-memory adapters, started by its boot sequence. */
export async function startMemoryBroker(adapters: MemoryAdapters, settings = memorySettings(), metrics?: Metrics, encryption?: ValueEncryption): Promise<Container> {
  const container = createContainer({
    settings,
    logger: silentLogger,
    adapters: [systemModule, memoryModule(adapters, settings.serverId)],
    // One server and no Raft group: no controller role, heartbeats or joining.
    duties: { partitions: true, raftGroup: 'none' },
    metrics,
    encryption,
  });
  const lifecycle = container.get(ServerLifecycle);
  await lifecycle.start();
  await lifecycle.register(settings.advertisePort);
  return container;
}

/** Stops the broker's services in the boot sequence's order and closes its metadata log; throws what a step failed with. */
export async function stopMemoryBroker(container: Container): Promise<void> {
  const failures = await container.get(ServerLifecycle).stop();
  if (failures.length > 0) throw new Error(`stopping failed at ${failures.map((f) => f.step).join(', ')}`, { cause: failures[0]!.error });
}

/** The adapters as a restarted broker finds them: the same stored entries and partition logs, the metadata log reopened. */
export const restartedAdapters = (adapters: MemoryAdapters): MemoryAdapters => ({
  ...adapters,
  metadataLog: new InMemoryMetadataLog(adapters.metadataLog.stored),
});
