import { StreamState } from '../../domain/stream/stream-state';
import { PartitionLogOptions } from '../ports/partition-log.port';
import { StreamDefaults } from '../server-settings';
import { AutoPauseSettings } from './auto-pause';

/** A stream's overrides over the server defaults (docs/protocol.md "Stream options"; segment age defaults to retention age). */
export function logOptionsFor(stream: StreamState, defaults: StreamDefaults): PartitionLogOptions {
  const c = stream.config;
  const retentionMaxAgeMs = c.retentionMaxAgeMs ?? defaults.retentionMaxAgeMs;
  return {
    segmentMaxBytes: c.segmentMaxBytes ?? defaults.segmentMaxBytes,
    segmentMaxAgeMs: c.segmentMaxAgeMs ?? (defaults.segmentMaxAgeMs || retentionMaxAgeMs),
    retentionMaxBytes: c.retentionMaxBytes ?? defaults.retentionMaxBytes,
    retentionMaxMessages: c.retentionMaxMessages ?? defaults.retentionMaxMessages,
    retentionMaxAgeMs,
    syncPolicy: defaults.syncPolicy,
    syncIntervalMs: defaults.syncIntervalMs,
  };
}

export const cleanerIntervalMsFor = (stream: StreamState, defaults: StreamDefaults): number =>
  stream.config.cleanerIntervalMs ?? defaults.cleanerIntervalMs;

export const concurrencyControlFor = (stream: StreamState, defaults: StreamDefaults): boolean =>
  stream.config.optimisticConcurrencyControl ?? defaults.concurrencyControl;

export const minIsrFor = (stream: StreamState, defaults: StreamDefaults): number => stream.config.minIsr ?? defaults.minIsr;

export const autoPauseFor = (stream: StreamState, defaults: StreamDefaults): AutoPauseSettings => ({
  idleMs: stream.config.autoPauseTimeMs ?? defaults.autoPauseTimeMs,
  disableIfSubscribers: stream.config.autoPauseDisableIfSubscribers ?? defaults.autoPauseDisableIfSubscribers,
});
