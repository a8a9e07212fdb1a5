import type { Logger } from '../ports/logger.port';
import type { Metrics } from '../ports/metrics.port';

/** At most one log line per kind and reason in this many milliseconds (the counter sees every drop). */
export const DROP_LOG_INTERVAL_MS = 10_000;

interface DropState {
  /** When the last line for this kind and reason was written; null before the first. */
  lastLineMs: number | null;
  /** Drops since that line (the one being logged included). */
  sinceLine: number;
  total: number;
}

/**
 * Counts and logs messages a component dropped (refused input: a bad signature, an undecodable
 * payload, a misaddressed message; or one it could not send), so that a flood costs a counter
 * increment, not a log line. Every drop increments `liftbridge_dropped_messages_total{kind,reason}`
 * through the Metrics port; the log gets the first drop of each kind and reason at once, then at
 * most one line per interval carrying how many were dropped since the previous line and in all
 * (docs/operability.md "Logs"). Callers never log the dropped bytes themselves: `fields` holds
 * sizes, subjects and bounded, escaped previews only.
 */
export class DroppedMessageLog {
  private readonly states = new Map<string, Map<string, DropState>>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'messageDropped'>,
    /** Milliseconds on any monotonic-enough clock (injected: src/application has no clock). */
    private readonly nowMs: () => number,
    private readonly intervalMs: number = DROP_LOG_INTERVAL_MS,
  ) {}

  /** Records one dropped message; `kind` and `reason` are short fixed words (they are metric labels). */
  drop(kind: string, reason: string, message: string, fields: object = {}, level: 'warn' | 'error' = 'warn'): void {
    this.metrics.messageDropped(kind, reason);
    const state = this.state(kind, reason);
    state.total++;
    state.sinceLine++;
    const now = this.nowMs();
    if (state.lastLineMs !== null && now - state.lastLineMs < this.intervalMs) return;
    this.logger[level]({ ...fields, kind, reason, droppedSinceLastLine: state.sinceLine, droppedTotal: state.total }, message);
    state.lastLineMs = now;
    state.sinceLine = 0;
  }

  /** Drops of this kind and reason so far (every reason when `reason` is omitted). */
  total(kind: string, reason?: string): number {
    const byReason = this.states.get(kind);
    if (!byReason) return 0;
    if (reason !== undefined) return byReason.get(reason)?.total ?? 0;
    let sum = 0;
    for (const s of byReason.values()) sum += s.total;
    return sum;
  }

  private state(kind: string, reason: string): DropState {
    let byReason = this.states.get(kind);
    if (!byReason) this.states.set(kind, (byReason = new Map()));
    let state = byReason.get(reason);
    if (!state) byReason.set(reason, (state = { lastLineMs: null, sinceLine: 0, total: 0 }));
    return state;
  }
}

/** Bytes shown of a dropped payload, at most. */
export const PREVIEW_BYTES_MAX = 32;

/**
 * A bounded, escaped view of bytes from a peer for a log line: the first `maxBytes` as hex, and
 * the length. Never the raw bytes: they may be huge, binary or terminal escapes.
 */
export function bytesPreview(data: Uint8Array, maxBytes: number = PREVIEW_BYTES_MAX): { readonly bytes: number; readonly hex: string } {
  const shown = data.subarray(0, maxBytes);
  let hex = '';
  for (const b of shown) hex += b.toString(16).padStart(2, '0');
  return { bytes: data.length, hex: data.length > maxBytes ? `${hex}…` : hex };
}

/** Characters of an error message kept in a drop's log line (decoders may quote the input). */
export const DETAIL_CHARS_MAX = 200;

/** The message of `error`, cut to a bounded length, for a drop's log line. */
export function errorDetail(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > DETAIL_CHARS_MAX ? `${text.slice(0, DETAIL_CHARS_MAX)}…` : text;
}
