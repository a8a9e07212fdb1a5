import { StreamConfig } from '../../domain/stream/stream-config';

/**
 * What this server does with each CreateStream option (CreateStreamRequest fields 6-18): one table,
 * so that an option the server cannot honour is refused instead of being stored and ignored (fail
 * closed). Absent options and "off" values are always accepted. docs/compatibility.md lists it.
 */
export type StreamOptionSupport =
  | { readonly kind: 'applied' }
  /** Any value is accepted: nothing would behave differently (`why`). */
  | { readonly kind: 'accepted'; readonly why: string }
  /** `needs(value)`: the value asks for `feature`, which is not implemented yet. `option` is the wire name. */
  | { readonly kind: 'refused'; readonly option: string; readonly feature: string; readonly needs: (value: number | boolean) => boolean };

const applied: StreamOptionSupport = { kind: 'applied' };

export const STREAM_OPTION_SUPPORT: { readonly [K in keyof Required<StreamConfig>]: StreamOptionSupport } = {
  retentionMaxBytes: applied,
  retentionMaxMessages: applied,
  retentionMaxAgeMs: applied,
  cleanerIntervalMs: applied,
  segmentMaxBytes: applied,
  segmentMaxAgeMs: applied,
  compactMaxGoroutines: { kind: 'accepted', why: 'it only sizes compaction, which cannot be enabled' },
  compactEnabled: { kind: 'refused', option: 'compactEnabled', feature: 'log compaction', needs: (v) => v === true },
  autoPauseTimeMs: applied,
  autoPauseDisableIfSubscribers: applied,
  minIsr: applied,
  optimisticConcurrencyControl: applied,
  encryption: applied,
};

/** The first option in `config` that asks for a missing feature, or null. */
export function unimplementedStreamOption(config: StreamConfig): { readonly option: string; readonly feature: string } | null {
  for (const [field, support] of Object.entries(STREAM_OPTION_SUPPORT) as [keyof StreamConfig, StreamOptionSupport][]) {
    const value = config[field];
    if (support.kind === 'refused' && value !== undefined && support.needs(value)) return { option: support.option, feature: support.feature };
  }
  return null;
}
