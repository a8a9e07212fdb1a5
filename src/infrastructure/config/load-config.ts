/**
 * Resolves the broker configuration from its sources (docs/configuration.md "Sources and precedence"):
 * defaults < config file < LIFTBRIDGE_* environment < explicit command-line flags.
 * The result is all or nothing: any problem returns every issue found and no configuration.
 */
import { err, type Result } from '../../domain/shared/result';
import type { BrokerConfig } from './broker-config';
import { buildBrokerConfig, type CheckedSetting } from './build-broker-config';
import { readConfigFile } from './config-file';
import { CONFIG_KEYS, envVarName, findKeySpec } from './config-keys';
import type { ConfigIssue, RawSetting, SettingLayer } from './config-settings';
import { coerceSetting } from './config-values';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConfigInputs {
  /** Settings from the config file (see readConfigFile). */
  readonly file?: SettingLayer;
  /** The process environment: LIFTBRIDGE_* variables are read for every key. */
  readonly env: Environment;
  /** Settings from explicitly given command-line flags. */
  readonly flags?: SettingLayer;
}

/**
 * `LIFTBRIDGE_<KEY>` with dots as underscores, for every known key (unlike Go, always
 * consulted, and nested keys work: docs/compatibility.md "Go quirks" #10). Empty variables count as unset.
 */
export function environmentLayer(env: Environment): SettingLayer {
  const layer = new Map<string, RawSetting>();
  for (const spec of CONFIG_KEYS) {
    const name = envVarName(spec.key);
    const value = env[name];
    if (value === undefined || value.trim() === '') continue;
    layer.set(spec.key, { key: spec.key, value, source: { kind: 'env', description: `environment ${name}` } });
  }
  return layer;
}

export function resolveBrokerConfig(inputs: ConfigInputs): Result<BrokerConfig, readonly ConfigIssue[]> {
  const merged = new Map<string, RawSetting>([
    ...(inputs.file ?? new Map<string, RawSetting>()),
    ...environmentLayer(inputs.env),
    ...(inputs.flags ?? new Map<string, RawSetting>()),
  ]);
  const issues: ConfigIssue[] = [];
  const checked = new Map<string, CheckedSetting>();
  for (const setting of merged.values()) {
    const spec = findKeySpec(setting.key);
    if (!spec) {
      issues.push({ key: setting.key, message: `Unknown configuration setting ${JSON.stringify(setting.key)}`, source: setting.source.description });
      continue;
    }
    const coerced = coerceSetting(spec, setting.value);
    if (coerced.ok) checked.set(spec.key, { value: coerced.value, source: setting.source });
    else issues.push({ key: spec.key, message: coerced.error, source: setting.source.description });
  }
  if (issues.length > 0) return err(issues);
  return buildBrokerConfig(checked, inputs.env);
}

export interface LoadOptions {
  /** The `--config` file, if any. */
  readonly configFile?: string;
  readonly env: Environment;
  readonly flags?: SettingLayer;
}

/** Reads the config file (if any) and resolves the configuration. */
export async function loadBrokerConfig(options: LoadOptions): Promise<Result<BrokerConfig, readonly ConfigIssue[]>> {
  let file: SettingLayer | undefined;
  if (options.configFile !== undefined) {
    const parsed = await readConfigFile(options.configFile);
    if (!parsed.ok) return parsed;
    file = parsed.value.settings;
  }
  return resolveBrokerConfig({ env: options.env, ...(file ? { file } : {}), ...(options.flags ? { flags: options.flags } : {}) });
}
