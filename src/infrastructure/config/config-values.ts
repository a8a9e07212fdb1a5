/**
 * Checks one raw setting against its key's type and converts it. Strings are accepted for every
 * type (environment variables and quoted YAML values are strings: "`port` may be a quoted
 * number", docs/configuration.md "Value types"). Messages name the key and the value as written.
 */
import { err, ok, type Result } from '../../domain/shared/result';
import type { HostPort } from './broker-config';
import type { ConfigKeySpec, KeyType } from './config-keys';
import { parseGoDurationMs } from './go-duration';
import { showValue, type RawScalar, type RawValue } from './config-settings';

/** `listen` given as a bare port: accepted and ignored, as in Liftbridge (docs/configuration.md "Addresses"). */
export const IGNORED_LISTEN = null;

export type CoercedValue = number | boolean | string | readonly string[] | HostPort | typeof IGNORED_LISTEN;

const INTEGER = /^[+-]?\d+$/;
const TRUE_WORDS = new Set(['true', 't', '1']);
const FALSE_WORDS = new Set(['false', 'f', '0']);
/** Characters that cannot appear in a server id, namespace or peer id: they end up in NATS subjects. */
const BAD_IDENTIFIER_CHAR = /[.\s*>]/;
const NATS_SCHEMES = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

export function coerceSetting(spec: ConfigKeySpec, value: RawValue): Result<CoercedValue, string> {
  const t = spec.type;
  const shown = t.type === 'string' && t.secret ? '(value not shown)' : showValue(value);
  const invalid = (expected: string): Result<never, string> => err(`Invalid value for ${JSON.stringify(spec.key)}: ${shown} (expected ${expected})`);
  if (t.type === 'list') return coerceList(spec.key, t, value);
  if (Array.isArray(value)) return invalid(describeType(t));
  const scalar = value as RawScalar;
  switch (t.type) {
    case 'int': {
      const n = toInteger(scalar);
      if (n === null || n < t.min || n > t.max) return invalid(describeType(t));
      return ok(n);
    }
    case 'duration': {
      const ms = typeof scalar === 'boolean' ? null : parseGoDurationMs(String(scalar));
      if (ms === null) return invalid('a duration such as 500ms, 1m30s or 168h');
      if (ms < 0 || (t.positive && ms === 0)) return invalid(describeType(t));
      return ok(ms);
    }
    case 'bool': {
      const b = toBoolean(scalar);
      return b === null ? invalid('true or false') : ok(b);
    }
    case 'enum': {
      const text = String(scalar).trim().toLowerCase();
      if (t.values.includes(text)) return ok(text);
      return t.invalid ? err(t.invalid(String(scalar))) : invalid(`one of ${t.values.join(', ')}`);
    }
    case 'string':
      return coerceString(spec.key, t.format, String(scalar), invalid);
    case 'hostport':
      return coerceHostPort(scalar, invalid);
  }
}

export function describeType(t: KeyType): string {
  switch (t.type) {
    case 'int':
      if (t.min === 0 && t.max === Number.MAX_SAFE_INTEGER) return 'a non-negative integer';
      if (t.min === 1 && t.max === Number.MAX_SAFE_INTEGER) return 'a positive integer';
      return t.max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${t.min}` : `an integer between ${t.min} and ${t.max}`;
    case 'duration':
      return t.positive ? 'a duration greater than zero' : 'a non-negative duration';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'string':
      return t.format === 'identifier' ? 'a name without dots, spaces or wildcards' : 'a string';
    case 'list':
      return t.format === 'identifier' ? 'a list of server ids' : 'a list of NATS URLs';
    case 'hostport':
      return 'host:port';
  }
}

function toInteger(v: RawScalar): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v !== 'string' || !INTEGER.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/** Go's strconv.ParseBool words, case-insensitive. */
function toBoolean(v: RawScalar): boolean | null {
  if (typeof v === 'boolean') return v;
  const text = String(v).trim().toLowerCase();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return null;
}

function coerceString(
  k: string,
  format: 'identifier' | 'host' | undefined,
  text: string,
  invalid: (expected: string) => Result<never, string>,
): Result<CoercedValue, string> {
  if (format === 'identifier') {
    if (text === '' && k === 'clustering.server.id') return ok(''); // empty = generate one
    if (text === '' || BAD_IDENTIFIER_CHAR.test(text)) return invalid('a name without dots, spaces or wildcards');
  }
  if (format === 'host' && /\s/.test(text)) return invalid('a host name or IP address');
  return ok(text);
}

function coerceHostPort(v: RawScalar, invalid: (expected: string) => Result<never, string>): Result<CoercedValue, string> {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? ok(IGNORED_LISTEN) : invalid('host:port');
  if (typeof v !== 'string') return invalid('host:port');
  if (/^\d+$/.test(v.trim())) return ok(IGNORED_LISTEN);
  const hp = splitHostPort(v.trim());
  return hp ? ok(hp) : invalid('host:port with a port between 0 and 65535');
}

/** Like Go's net.SplitHostPort: `host:port` or `[ipv6]:port`; the host may be empty. */
export function splitHostPort(text: string): HostPort | null {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return null;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || text.indexOf(':') !== colon) return null;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || /\s/.test(host)) return null;
  const port = Number(portText);
  return port <= 65_535 ? { host, port } : null;
}

function coerceList(
  k: string,
  t: Extract<KeyType, { type: 'list' }>,
  value: RawValue,
): Result<CoercedValue, string> {
  const items = splitList(value);
  for (const item of items) {
    const bad = t.format === 'identifier' ? checkIdentifier(item) : checkNatsUrl(item);
    if (bad) return err(`Invalid value for ${JSON.stringify(k)}: ${JSON.stringify(item)} (expected ${bad})`);
  }
  if (t.format === 'identifier') {
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item)) return err(`Invalid value for ${JSON.stringify(k)}: ${JSON.stringify(item)} is listed twice`);
      seen.add(item);
    }
  }
  return ok(items);
}

/**
 * Lists may be given as a sequence or as one string; every element is split on commas and
 * whitespace, trimmed, and empty elements are dropped, keeping the order (Liftbridge's
 * TestNormalizeNatsServers).
 */
export function splitList(value: RawValue): string[] {
  const elements: readonly RawScalar[] = Array.isArray(value) ? value : [value as RawScalar];
  return elements.flatMap((e) => String(e).split(/[\s,]+/)).filter((e) => e !== '');
}

function checkIdentifier(item: string): string | null {
  return BAD_IDENTIFIER_CHAR.test(item) ? 'a server id without dots, spaces or wildcards' : null;
}

function checkNatsUrl(item: string): string | null {
  if (!item.includes('://')) {
    // nats.js also accepts host:port and a bare host.
    return /^[^/?#@]+$/.test(item) ? null : 'a NATS URL such as nats://host:4222';
  }
  try {
    const url = new URL(item);
    return NATS_SCHEMES.has(url.protocol) && url.hostname !== '' ? null : 'a nats://, tls://, ws:// or wss:// URL';
  } catch {
    return 'a NATS URL such as nats://host:4222';
  }
}
