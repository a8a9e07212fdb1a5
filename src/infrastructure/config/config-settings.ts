/**
 * Raw settings as they come from one source (file, environment, command line), before they are
 * checked and converted. Every setting remembers where it came from so that an error can say so.
 */

export type RawScalar = string | number | boolean;
export type RawValue = RawScalar | readonly RawScalar[];

export interface SettingSource {
  readonly kind: 'file' | 'env' | 'flag';
  /** Human-readable origin, e.g. `liftbridge.yaml line 12`, `environment LIFTBRIDGE_PORT`, `flag --port`. */
  readonly description: string;
}

export interface RawSetting {
  /** Normalised dotted key (lower case). */
  readonly key: string;
  readonly value: RawValue;
  readonly source: SettingSource;
}

/** One source's settings by key. */
export type SettingLayer = ReadonlyMap<string, RawSetting>;

/** One thing wrong with the configuration. `message` always names the key and the bad value. */
export interface ConfigIssue {
  readonly key?: string;
  readonly message: string;
  readonly source?: string;
}

export const issue = (message: string, key?: string, source?: SettingSource): ConfigIssue => ({
  message,
  ...(key === undefined ? {} : { key }),
  ...(source === undefined ? {} : { source: source.description }),
});

export const formatIssue = (i: ConfigIssue): string => (i.source ? `${i.message} (from ${i.source})` : i.message);

export function formatIssues(issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  ${formatIssue(i)}`);
  return `Invalid configuration:\n${lines.join('\n')}\n`;
}

/** Shows a raw value in an error message the way the user wrote it. */
export function showValue(value: RawValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => showValue(v)).join(', ')}]`;
  return String(value);
}
