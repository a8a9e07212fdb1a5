import type { RaftContext } from './raft-context';
import type { RaftMessage } from './raft-message';
import { handleAppendEntries, handleHeartbeat, handleInstallSnapshot } from './step-follower';

/** Pre-candidates and candidates count answers to their own round only; a leader of the term ends the round. */
export function stepCandidate(ctx: RaftContext, m: RaftMessage): void {
  switch (m.type) {
    case 'AppendEntries':
      // Same term (higher terms were handled before): someone else won.
      ctx.becomeFollower(m.term, m.from);
      return handleAppendEntries(ctx, m);
    case 'Heartbeat':
      ctx.becomeFollower(m.term, m.from);
      return handleHeartbeat(ctx, m);
    case 'InstallSnapshot':
      ctx.becomeFollower(m.term, m.from);
      return handleInstallSnapshot(ctx, m);
    case 'RequestVoteResult': {
      if (m.preVote !== (ctx.role === 'pre-candidate')) return; // an answer to an earlier round
      const outcome = ctx.recordVote(m.from, !m.reject);
      if (outcome === 'won') {
        if (ctx.role === 'pre-candidate') ctx.startElection('vote');
        else ctx.becomeLeader();
      } else if (outcome === 'lost') {
        // Pre-vote keeps the term; a lost real election keeps the (already increased) term.
        ctx.becomeFollower(ctx.term, null);
      }
      return;
    }
    default:
      return;
  }
}
