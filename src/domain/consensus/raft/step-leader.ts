import { assert } from '../../shared/assert';
import { becomeProbe, becomeReplicate, freeInflightTo, heartbeatAcknowledged, isPaused, maybeDecreaseTo, maybeUpdate, sentAppend } from './progress';
import { committedIndex } from './quorum';
import type { RaftContext } from './raft-context';
import type { Progress } from './progress';
import type { AppendEntriesResult, NodeId, RaftMessage } from './raft-message';

/** The leader's replication: AppendEntries out, answers in, commit by counting replicas. */

export function stepLeader(ctx: RaftContext, m: RaftMessage): void {
  switch (m.type) {
    case 'AppendEntriesResult':
      return onAppendEntriesResult(ctx, m);
    case 'HeartbeatResult': {
      const pr = ctx.progress.get(m.from);
      if (pr === undefined) return;
      ctx.progress.set(m.from, heartbeatAcknowledged(pr, ctx.config.inflightMessagesMax));
      // Also recovers a follower whose appends were all lost: an empty AppendEntries probes it.
      if (pr.match < ctx.log.lastIndex()) sendAppend(ctx, m.from, true);
      return;
    }
    default:
      // Votes from a won election, stale or duplicated answers: nothing to do.
      return;
  }
}

function onAppendEntriesResult(ctx: RaftContext, m: AppendEntriesResult): void {
  const known = ctx.progress.get(m.from);
  if (known === undefined) return;
  const pr = { ...known, recentActive: true };
  ctx.progress.set(m.from, pr);
  if (m.reject) {
    // Fast backtracking: skip every entry of a term the follower cannot match (etcd raft.go).
    const hint = m.rejectHintTerm > 0 ? ctx.log.findConflictByTerm(Math.min(m.rejectHintIndex, ctx.log.lastIndex()), m.rejectHintTerm).index : m.rejectHintIndex;
    const decreased = maybeDecreaseTo(pr, m.index, hint);
    if (decreased === null) return;
    ctx.progress.set(m.from, decreased);
    sendAppend(ctx, m.from, true);
    return;
  }
  const updated = maybeUpdate(pr, m.index);
  if (updated !== null) {
    const next = updated.state === 'probe' ? becomeReplicate(updated) : freeInflightTo(updated, m.index);
    ctx.progress.set(m.from, next);
    if (maybeCommit(ctx)) broadcastAppend(ctx);
    // A leadership transfer waits for its target to hold the whole log (leader-transfer.ts).
    if (sendTimeoutNowIfCaughtUp(ctx, m.from)) return;
  } else if (pr.state === 'probe' && pr.match === m.index) {
    ctx.progress.set(m.from, becomeReplicate(pr));
  } else {
    return;
  }
  while (sendAppend(ctx, m.from, false)) {
    // stream entries until the follower is paused or has everything
  }
}

/**
 * Send the follower the entries it lacks (at most `appendEntriesMax`). With `sendIfEmpty` an
 * empty message still goes out to carry the commit index or to probe. Returns whether it sent.
 */
export function sendAppend(ctx: RaftContext, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = ctx.progress.get(to);
  if (pr === undefined || isPaused(pr, ctx.config.inflightMessagesMax)) return false;
  const prevLogIndex = pr.next - 1;
  const prevLogTerm = ctx.log.term(prevLogIndex);
  if (prevLogTerm === undefined) return sendSnapshot(ctx, to, pr);
  const entries = ctx.log.slice(pr.next, Math.min(ctx.log.lastIndex() + 1, pr.next + ctx.config.appendEntriesMax));
  if (entries.length === 0 && !sendIfEmpty) return false;
  ctx.send({ type: 'AppendEntries', from: ctx.id, to, term: ctx.term, prevLogIndex, prevLogTerm, entries, commit: ctx.log.committed });
  ctx.progress.set(to, sentAppend(pr, entries[entries.length - 1]?.index ?? null));
  return true;
}

/**
 * The follower needs entries this leader has compacted (§7): send the snapshot and pause the
 * follower as a probe; its answer (or a heartbeat answer, if the snapshot was lost) resumes it.
 */
function sendSnapshot(ctx: RaftContext, to: NodeId, pr: Progress): boolean {
  const snapshot = ctx.snapshot;
  assert(pr.next - 1 <= ctx.log.lastIndex(), `follower ${to} next ${pr.next} is past the leader's log ${ctx.log.lastIndex()}`);
  assert(snapshot !== null && snapshot.index >= ctx.log.snapshotIndex, 'a leader with a compacted log holds the snapshot that replaced it');
  ctx.send({ type: 'InstallSnapshot', from: ctx.id, to, term: ctx.term, snapshot });
  ctx.progress.set(to, { ...(pr.state === 'replicate' ? becomeProbe(pr) : pr), probeSent: true });
  return true;
}

/** Leadership transfer: tells the transferee to campaign once it holds the leader's whole log; true when sent. */
export function sendTimeoutNowIfCaughtUp(ctx: RaftContext, to: NodeId): boolean {
  if (ctx.leadTransferee !== to || ctx.progress.get(to)?.match !== ctx.log.lastIndex()) return false;
  ctx.send({ type: 'TimeoutNow', from: ctx.id, to, term: ctx.term });
  return true;
}

export function broadcastAppend(ctx: RaftContext): void {
  for (const voter of ctx.voters) if (voter !== ctx.id) sendAppend(ctx, voter, true);
}

export function broadcastHeartbeat(ctx: RaftContext): void {
  for (const voter of ctx.voters) {
    if (voter === ctx.id) continue;
    const match = ctx.progress.get(voter)?.match ?? 0;
    // Never tell a follower to commit past what it is known to hold (etcd sendHeartbeat).
    ctx.send({ type: 'Heartbeat', from: ctx.id, to: voter, term: ctx.term, commit: Math.min(match, ctx.log.committed) });
  }
}

/**
 * Advance the commit index to what a quorum holds. Raft §5.4.2: only entries from the leader's
 * own term are committed by counting replicas; older entries become committed indirectly (Figure 8).
 */
export function maybeCommit(ctx: RaftContext): boolean {
  assert(ctx.role === 'leader', 'only the leader counts replicas');
  const index = committedIndex(ctx.voters, (id) => ctx.progress.get(id)?.match ?? 0);
  if (index <= ctx.log.committed || ctx.log.term(index) !== ctx.term) return false;
  ctx.log.commitTo(index);
  return true;
}
