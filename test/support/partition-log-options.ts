import type { PartitionLogOptions } from '../../src/application/ports/partition-log.port';

/** Log options for tests: segments roll by size only, nothing is deleted by retention, every append is synced. */
export const keepEverythingLogOptions = (segmentMaxBytes: number): PartitionLogOptions => ({
  segmentMaxBytes,
  segmentMaxAgeMs: 0,
  retentionMaxBytes: 0,
  retentionMaxMessages: 0,
  retentionMaxAgeMs: 0,
  syncPolicy: 'always',
  syncIntervalMs: 0,
});
