import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { parseConfigText } from '../../../../src/infrastructure/config/config-file';
import type { ConfigIssue, RawSetting, RawValue, SettingLayer } from '../../../../src/infrastructure/config/config-settings';
import { resolveBrokerConfig, type Environment } from '../../../../src/infrastructure/config/load-config';
import type { Result } from '../../../../src/domain/shared/result';

/** Resolving a configuration from a file's text, an environment and flags, as the server does at start. */
export const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

export interface Inputs {
  readonly file?: string;
  readonly fileName?: string;
  readonly env?: Environment;
  readonly flags?: Readonly<Record<string, RawValue>>;
}

export function resolve({ file, fileName = 'liftbridge.yaml', env = {}, flags }: Inputs): Result<BrokerConfig, readonly ConfigIssue[]> {
  let fileLayer: SettingLayer | undefined;
  if (file !== undefined) {
    const parsed = parseConfigText(file, fileName);
    if (!parsed.ok) return parsed;
    fileLayer = parsed.value.settings;
  }
  const flagLayer = new Map<string, RawSetting>(
    Object.entries(flags ?? {}).map(([key, value]) => [key, { key, value, source: { kind: 'flag', description: `flag for ${key}` } }]),
  );
  return resolveBrokerConfig({ env, flags: flagLayer, ...(fileLayer ? { file: fileLayer } : {}) });
}

export function configOf(inputs: Inputs): BrokerConfig {
  const r = resolve(inputs);
  if (!r.ok) throw new Error(`unexpected configuration error:\n${r.error.map((i) => i.message).join('\n')}`);
  return r.value;
}

export function messagesOf(inputs: Inputs): string[] {
  const r = resolve(inputs);
  if (r.ok) throw new Error('expected a configuration error');
  return r.error.map((i) => i.message);
}

export const yaml = (file: string): BrokerConfig => configOf({ file });
export const yamlErrors = (file: string): string[] => messagesOf({ file });
