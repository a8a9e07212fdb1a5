import { err, ok } from '../../shared/result';
import type { Result } from '../../shared/result';
import type { RaftContext } from './raft-context';
import type { TransferLeadershipError } from './raft-errors';
import type { NodeId } from './raft-message';
import { sendAppend, sendTimeoutNowIfCaughtUp } from './step-leader';

/**
 * Leadership transfer (Ongaro's thesis §3.10; etcd's MsgTransferLeader and MsgTimeoutNow): the
 * leader brings the target's log up to its own last index, then sends it TimeoutNow; the target
 * campaigns at once in the next term, without pre-vote, and its vote requests say so, so voters
 * that heard from the leader recently vote anyway. Meanwhile the leader takes no proposals (a
 * transfer should not race new entries), and gives up after one election timeout.
 */

/** Starts (or keeps) a transfer to `to`, or to the best target when `to` is null. The caller leads. */
export function startLeadershipTransfer(ctx: RaftContext, to: NodeId | null): Result<NodeId, TransferLeadershipError> {
  const target = to ?? bestTransferTarget(ctx);
  if (target === null) return err({ kind: 'NoTransferTarget' });
  if (target === ctx.id || !ctx.voters.includes(target)) return err({ kind: 'InvalidTransferTarget', nodeId: target });
  if (ctx.leadTransferee === target) return ok(target); // already under way
  ctx.leadTransferee = target;
  // The transfer must finish within one election timeout (tickLeader aborts it after that).
  ctx.electionElapsed = 0;
  if (!sendTimeoutNowIfCaughtUp(ctx, target)) sendAppend(ctx, target, true);
  return ok(target);
}

/**
 * The voter that can win soonest: heard from in this CheckQuorum round first, then the longest
 * matching log, then the configured voter order (deterministic).
 */
function bestTransferTarget(ctx: RaftContext): NodeId | null {
  let best: { id: NodeId; active: boolean; match: number } | null = null;
  for (const voter of ctx.voters) {
    if (voter === ctx.id) continue;
    const pr = ctx.progress.get(voter);
    if (pr === undefined) continue;
    const better = best === null || (pr.recentActive && !best.active) || (pr.recentActive === best.active && pr.match > best.match);
    if (better) best = { id: voter, active: pr.recentActive, match: pr.match };
  }
  return best?.id ?? null;
}
