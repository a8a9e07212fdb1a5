import { StreamConfig } from '../../../domain/stream/stream-config';
import { CreateStreamRequest as CreateStreamData } from '../../../application/use-cases/stream-admin';
import { CreateStreamRequest, NullableInt64 } from '../../../protocol/api-types';

/** int64 offsets from the wire as safe integers: out-of-range values saturate (they cannot exist in a log). */
export function int64ToOffset(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (value < -1n) return -1;
  return Number(value);
}

const int64 = (v: NullableInt64 | undefined): number | undefined => {
  if (!v) return undefined;
  if (v.value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v.value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v.value);
};

/** Only present wrappers override the server defaults (docs/protocol.md "Nullable wrappers"). */
export function toCreateStreamData(req: CreateStreamRequest): CreateStreamData {
  const config: { -readonly [K in keyof StreamConfig]: StreamConfig[K] } = {};
  const set = <K extends keyof StreamConfig>(key: K, value: StreamConfig[K] | undefined): void => {
    if (value !== undefined) config[key] = value;
  };
  set('retentionMaxBytes', int64(req.retentionMaxBytes));
  set('retentionMaxMessages', int64(req.retentionMaxMessages));
  set('retentionMaxAgeMs', int64(req.retentionMaxAge));
  set('cleanerIntervalMs', int64(req.cleanerInterval));
  set('segmentMaxBytes', int64(req.segmentMaxBytes));
  set('segmentMaxAgeMs', int64(req.segmentMaxAge));
  set('compactMaxGoroutines', req.compactMaxGoroutines?.value);
  set('compactEnabled', req.compactEnabled?.value);
  set('autoPauseTimeMs', int64(req.autoPauseTime));
  set('autoPauseDisableIfSubscribers', req.autoPauseDisableIfSubscribers?.value);
  set('minIsr', req.minIsr?.value);
  set('optimisticConcurrencyControl', req.optimisticConcurrencyControl?.value);
  set('encryption', req.encryption?.value);
  return {
    name: req.name,
    subject: req.subject,
    group: req.group,
    replicationFactor: req.replicationFactor,
    partitions: req.partitions,
    config,
  };
}

/** proto3 cannot tell an empty bytes field from an absent one; like Go, we store absent. */
export const bytesOrNull = (b: Uint8Array | undefined): Uint8Array | null => (b && b.length > 0 ? b : null);

export const headersOrNull = (h: Readonly<Record<string, Uint8Array>> | undefined): Readonly<Record<string, Uint8Array>> | null =>
  h && Object.keys(h).length > 0 ? h : null;
