import { StreamConfig } from '../../stream/stream-config';

/**
 * Readers of one JSON value each, for the metadata decoders: every object is rebuilt field by
 * field, nothing unchecked passes through. `fail` makes the decoder's error from a detail that
 * names the field (`streams[0].partitions[1].isr is not an array`).
 */
export function jsonFields(fail: (detail: string) => Error) {
  const record = (value: unknown, at: string): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`${at} is not an object`);
    return value as Record<string, unknown>;
  };
  const array = (value: unknown, at: string): readonly unknown[] => {
    if (!Array.isArray(value)) throw fail(`${at} is not an array`);
    return value;
  };
  const string = (value: unknown, at: string): string => {
    if (typeof value !== 'string') throw fail(`${at} is not a string`);
    return value;
  };
  const decimal = (value: unknown, at: string): string => {
    if (typeof value !== 'string' || !/^(0|-?[1-9][0-9]*)$/.test(value)) throw fail(`${at} is not a decimal string`);
    return value;
  };
  const boolean = (value: unknown, at: string): boolean => {
    if (typeof value !== 'boolean') throw fail(`${at} is not a boolean`);
    return value;
  };
  const index = (value: unknown, at: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail(`${at} is not a non-negative safe integer`);
    return value;
  };
  /** A replication factor may be -1 (every broker) in a command; elsewhere counts are indexes. */
  const integer = (value: unknown, at: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fail(`${at} is not a safe integer`);
    return value;
  };
  const strings = (value: unknown, at: string): string[] => array(value, at).map((v, i) => string(v, `${at}[${i}]`));
  const config = (value: unknown, at: string): StreamConfig => {
    const r = record(value, at);
    const result: Record<string, number | boolean> = {};
    // In the encoded order, so that re-encoding a decoded state gives the same bytes.
    for (const [key, v] of Object.entries(r)) {
      if (CONFIG_NUMBERS.has(key)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`${at}.${key} is not a number`);
        result[key] = v;
      } else if (CONFIG_BOOLEANS.has(key)) result[key] = boolean(v, `${at}.${key}`);
      else throw fail(`${at} has an unknown field ${key}`);
    }
    return result as StreamConfig;
  };
  return { record, array, string, decimal, boolean, index, integer, strings, config };
}

const CONFIG_NUMBERS: ReadonlySet<string> = new Set([
  'retentionMaxBytes',
  'retentionMaxMessages',
  'retentionMaxAgeMs',
  'cleanerIntervalMs',
  'segmentMaxBytes',
  'segmentMaxAgeMs',
  'compactMaxGoroutines',
  'autoPauseTimeMs',
  'minIsr',
] satisfies readonly (keyof StreamConfig)[]);
const CONFIG_BOOLEANS: ReadonlySet<string> = new Set([
  'compactEnabled',
  'autoPauseDisableIfSubscribers',
  'optimisticConcurrencyControl',
  'encryption',
] satisfies readonly (keyof StreamConfig)[]);
