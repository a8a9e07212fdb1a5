/**
 * Reads the `--config` file: YAML (today's format) or the pre-1.0 brace format (docs/configuration.md "File formats"),
 * detected from the content. Produces one settings layer with every key checked against the key
 * table, or the issues; nothing is applied from a file with any problem (docs/reliability.md "Bad inputs", C14).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { err, ok, type Result } from '../../domain/shared/result';
import { parseBraceConfig, looksLikeBraceFormat, type BraceEntry, type BraceScalar } from './brace-config-file';
import { findKeySpec } from './config-keys';
import type { ConfigIssue, RawScalar, RawSetting, RawValue, SettingLayer, SettingSource } from './config-settings';
import { LEGACY_KEYS } from './legacy-config-keys';
import { parseYamlConfig, type FileEntry } from './yaml-config-file';

/** A configuration file is a few kilobytes; refuse anything absurd before parsing it. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

export type ConfigFormat = 'yaml' | 'brace';

export interface ParsedConfigFile {
  readonly format: ConfigFormat;
  readonly settings: SettingLayer;
}

export async function readConfigFile(path: string): Promise<Result<ParsedConfigFile, readonly ConfigIssue[]>> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) return err([{ message: `Cannot read configuration file ${JSON.stringify(path)}: not a regular file` }]);
    if (info.size > CONFIG_FILE_MAX_BYTES) {
      return err([
        {
          message: `Configuration file ${JSON.stringify(path)} is too large (${info.size} bytes; the limit is ${CONFIG_FILE_MAX_BYTES})`,
        },
      ]);
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return err([{ message: `Cannot read configuration file ${JSON.stringify(path)}: ${reason}` }]);
  }
  return parseConfigText(text, path);
}

/** Parses file content; `path` is only used in messages. */
export function parseConfigText(rawText: string, path: string): Result<ParsedConfigFile, readonly ConfigIssue[]> {
  const text = rawText.startsWith('\uFEFF') ? rawText.slice(1) : rawText;
  const name = basename(path);
  const sourceAt = (line: number): SettingSource => ({ kind: 'file', description: `${name} line ${line}` });
  if (!looksLikeBraceFormat(text)) {
    const yaml = parseYamlConfig(text);
    if (yaml.kind === 'invalid') {
      return err([{ message: `${yaml.message} in configuration file ${JSON.stringify(path)}` }]);
    }
    if (yaml.kind === 'entries') {
      return toLayer('yaml', yaml.entries.map((e) => yamlSetting(e, sourceAt)));
    }
  }
  const brace = parseBraceConfig(text);
  if (brace.kind === 'invalid') {
    return err([{ message: `Syntax error at line ${brace.line} in configuration file ${JSON.stringify(path)}: ${brace.message}` }]);
  }
  return toLayer('brace', brace.entries.map((e) => braceSetting(e, sourceAt)));
}

interface PendingSetting {
  readonly key: string;
  /** What the user wrote, for messages about unknown keys. */
  readonly writtenKey: string;
  readonly value: RawValue | null;
  readonly source: SettingSource;
  readonly legacyHint?: string;
}

function yamlSetting(e: FileEntry, sourceAt: (line: number) => SettingSource): PendingSetting {
  const key = e.key.toLowerCase();
  const modern = LEGACY_KEYS.get(key);
  return {
    key,
    writtenKey: e.key,
    value: e.value,
    source: sourceAt(e.line),
    ...(modern && !findKeySpec(key) ? { legacyHint: modern } : {}),
  };
}

function braceSetting(e: BraceEntry, sourceAt: (line: number) => SettingSource): PendingSetting {
  const written = e.key.toLowerCase();
  const key = LEGACY_KEYS.get(written) ?? written;
  const spec = findKeySpec(key);
  // The key's type decides how a bare word is read: `1m` is a duration for a duration key and
  // 1,000,000 (NATS size suffix) for an integer key; `yes` is true only for a boolean key.
  const useText = spec === undefined || ['string', 'duration', 'hostport', 'enum', 'list'].includes(spec.type.type);
  const pick = (s: BraceScalar): RawScalar => (s.quoted || useText ? s.text : s.value);
  const value: RawValue = isScalarList(e.value) ? e.value.map((s) => s.text) : pick(e.value);
  return { key, writtenKey: e.key, value, source: sourceAt(e.line) };
}

const isScalarList = (v: BraceScalar | readonly BraceScalar[]): v is readonly BraceScalar[] => Array.isArray(v);

function toLayer(format: ConfigFormat, pending: readonly PendingSetting[]): Result<ParsedConfigFile, readonly ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const layer = new Map<string, RawSetting>();
  const seen = new Map<string, SettingSource>();
  for (const p of pending) {
    if (!findKeySpec(p.key)) {
      const hint = p.legacyHint ? ` (a pre-1.0 key: use ${JSON.stringify(p.legacyHint)})` : '';
      issues.push({ key: p.key, message: `Unknown configuration setting ${JSON.stringify(p.writtenKey)}${hint}`, source: p.source.description });
      continue;
    }
    const previous = seen.get(p.key);
    if (previous) {
      issues.push({
        key: p.key,
        message: `Duplicate configuration setting ${JSON.stringify(p.key)} (also set at ${previous.description})`,
        source: p.source.description,
      });
      continue;
    }
    seen.set(p.key, p.source);
    if (p.value === null) continue; // an empty value leaves the default
    layer.set(p.key, { key: p.key, value: p.value, source: p.source });
  }
  return issues.length > 0 ? err(issues) : ok({ format, settings: layer });
}
