import { SEGMENT_BYTES_MAX, StreamConfig } from './stream-config';

/** The first override that cannot work, as (field, reason), or null (docs/reliability.md "Bad inputs", A7). */
export function streamConfigProblem(config: StreamConfig, replicationFactor: number): { field: string; reason: string } | null {
  const nonNegative: (keyof StreamConfig)[] = [
    'retentionMaxBytes',
    'retentionMaxMessages',
    'retentionMaxAgeMs',
    'segmentMaxAgeMs',
    'autoPauseTimeMs',
    'compactMaxGoroutines',
  ];
  for (const field of nonNegative) {
    const v = config[field];
    if (typeof v === 'number' && (!Number.isSafeInteger(v) || v < 0)) return { field, reason: `must be >= 0, got ${v}` };
  }
  const { segmentMaxBytes, cleanerIntervalMs, minIsr } = config;
  if (segmentMaxBytes !== undefined && (!Number.isSafeInteger(segmentMaxBytes) || segmentMaxBytes < 1 || segmentMaxBytes > SEGMENT_BYTES_MAX))
    return { field: 'segmentMaxBytes', reason: `must be between 1 and ${SEGMENT_BYTES_MAX}, got ${segmentMaxBytes}` };
  if (cleanerIntervalMs !== undefined && (!Number.isSafeInteger(cleanerIntervalMs) || cleanerIntervalMs < 1))
    return { field: 'cleanerInterval', reason: `must be at least 1 ms, got ${cleanerIntervalMs}` };
  if (minIsr !== undefined && (!Number.isSafeInteger(minIsr) || minIsr < 1 || minIsr > replicationFactor))
    return { field: 'minIsr', reason: `must be between 1 and the replication factor ${replicationFactor}, got ${minIsr}` };
  return null;
}
