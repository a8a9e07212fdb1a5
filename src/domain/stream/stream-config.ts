/**
 * Per-stream overrides of the server defaults (CreateStreamRequest fields 6-18, docs/protocol.md "Stream options").
 * An absent field means "use the server default"; durations are milliseconds as on the wire.
 */
export interface StreamConfig {
  readonly retentionMaxBytes?: number;
  readonly retentionMaxMessages?: number;
  readonly retentionMaxAgeMs?: number;
  readonly cleanerIntervalMs?: number;
  readonly segmentMaxBytes?: number;
  readonly segmentMaxAgeMs?: number;
  readonly compactMaxGoroutines?: number;
  readonly compactEnabled?: boolean;
  readonly autoPauseTimeMs?: number;
  readonly autoPauseDisableIfSubscribers?: boolean;
  readonly minIsr?: number;
  readonly optimisticConcurrencyControl?: boolean;
  readonly encryption?: boolean;
}

export type StreamConfigField = keyof StreamConfig;

/** Largest segment we accept: segment positions are int32 in the index (docs/storage.md "Index entry"). */
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1;
