/**
 * Go duration strings (`time.ParseDuration`): an optional sign, then one or more
 * `<decimal number><unit>` parts, units ns, us (µs, μs), ms, s, m, h; `"0"` alone is allowed.
 * As in Liftbridge's configuration (viper/cast), a bare integer means nanoseconds (docs/configuration.md "Value types").
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek small letter mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d*(?:\.\d*)?)(ns|us|µs|μs|ms|s|m|h)/;
const BARE_INTEGER = /^[+-]?\d+$/;
/** Go durations are int64 nanoseconds: about 292 years. */
const MAX_DURATION_MS = 9_223_372_036_854;

/**
 * Parses a Go duration and returns whole milliseconds, or null when the text is not a duration.
 * A positive duration below one millisecond is rounded up to 1 ms (so it never turns into 0 and,
 * for an interval, into a busy loop); other fractions are rounded up as well.
 */
export function parseGoDurationMs(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (BARE_INTEGER.test(s)) return fromNanoseconds(Number(s));
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let totalMs = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) return null;
    const [whole, digits, unit] = m as unknown as [string, string, string];
    if (digits === '' || digits === '.') return null;
    totalMs += Number(digits) * (UNIT_MS[unit] as number);
    rest = rest.slice(whole.length);
  }
  if (totalMs > MAX_DURATION_MS) return null;
  return sign * Math.ceil(totalMs) || 0; // never -0
}

function fromNanoseconds(ns: number): number | null {
  if (!Number.isSafeInteger(ns)) return null;
  return Math.sign(ns) * Math.ceil(Math.abs(ns) / 1e6) || 0;
}

/** Formats milliseconds as a short Go-style duration (`1m30s`, `168h`, `250ms`), for messages and help. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatDurationMs(-ms)}`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  if (h === 0 && m === 0 && s === 0) return `${rest}ms`;
  const parts: string[] = [];
  if (h > 0) parts.push(`${h}h`);
  if (m > 0) parts.push(`${m}m`);
  if (rest > 0) parts.push(`${s}.${String(rest).padStart(3, '0').replace(/0+$/, '')}s`);
  else if (s > 0) parts.push(`${s}s`);
  return parts.join('');
}
