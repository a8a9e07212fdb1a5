import { assert } from '../../shared/assert';

/**
 * What the leader knows about one follower's log (etcd `tracker.Progress`), as immutable data
 * with pure transitions.
 * - `probe`: the leader does not know where the logs match; it sends one AppendEntries at a
 *   time (`probeSent` pauses it until an answer or heartbeat answer arrives) and backs off.
 * - `replicate`: the logs match at `match`; the leader streams entries optimistically, up to
 *   `inflightMessagesMax` unacknowledged messages (`inflight` holds each message's last index).
 */
export type ProgressState = 'probe' | 'replicate';

export interface Progress {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly probeSent: boolean;
  readonly inflight: readonly number[];
  /** Heard from since the last CheckQuorum round. */
  readonly recentActive: boolean;
}

export const initialProgress = (lastIndex: number): Progress => ({
  match: 0,
  next: lastIndex + 1,
  state: 'probe',
  probeSent: false,
  inflight: [],
  recentActive: false,
});

export const becomeProbe = (pr: Progress): Progress => ({ ...pr, state: 'probe', next: pr.match + 1, probeSent: false, inflight: [] });

export const becomeReplicate = (pr: Progress): Progress => ({ ...pr, state: 'replicate', next: pr.match + 1, probeSent: false, inflight: [] });

export const isPaused = (pr: Progress, inflightMessagesMax: number): boolean =>
  pr.state === 'probe' ? pr.probeSent : pr.inflight.length >= inflightMessagesMax;

/** The follower acknowledged `index`. Returns null when the answer is stale (nothing new). */
export function maybeUpdate(pr: Progress, index: number): Progress | null {
  if (index <= pr.match) return null;
  return { ...pr, match: index, next: Math.max(pr.next, index + 1), probeSent: false };
}

/**
 * The follower refused `rejected` as prevLogIndex; `matchHint` is where the leader guesses the
 * logs may match. Returns null for a stale refusal. Never moves `next` to or below `match`.
 */
export function maybeDecreaseTo(pr: Progress, rejected: number, matchHint: number): Progress | null {
  if (pr.state === 'replicate') {
    if (rejected <= pr.match) return null;
    return becomeProbe(pr);
  }
  if (pr.next - 1 !== rejected) return null;
  const next = Math.max(Math.min(rejected, matchHint + 1), pr.match + 1);
  assert(next >= 1 && next <= pr.next, `probe moved next the wrong way: ${pr.next} → ${next}`);
  return { ...pr, next, probeSent: false };
}

/** Record an AppendEntries just sent with entries up to `lastIndex` (or none). */
export function sentAppend(pr: Progress, lastIndex: number | null): Progress {
  if (pr.state === 'probe') return { ...pr, probeSent: true };
  if (lastIndex === null) return pr;
  return { ...pr, next: lastIndex + 1, inflight: [...pr.inflight, lastIndex] };
}

/** Messages up to `index` were acknowledged: they no longer count against the in-flight bound. */
export const freeInflightTo = (pr: Progress, index: number): Progress => ({ ...pr, inflight: pr.inflight.filter((i) => i > index) });

/** A heartbeat answer proves the follower is alive: resume a paused probe, release one in-flight slot. */
export function heartbeatAcknowledged(pr: Progress, inflightMessagesMax: number): Progress {
  const inflight = pr.inflight.length >= inflightMessagesMax ? pr.inflight.slice(1) : pr.inflight;
  return { ...pr, probeSent: false, inflight, recentActive: true };
}
