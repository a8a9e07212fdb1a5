import type { RaftContext } from './raft-context';
import type { AppendEntries, Heartbeat, InstallSnapshot, RaftMessage } from './raft-message';

/** A follower takes entries and commit indexes from the leader of its term. */
export function stepFollower(ctx: RaftContext, m: RaftMessage): void {
  switch (m.type) {
    case 'AppendEntries':
      ctx.electionElapsed = 0;
      ctx.leaderId = m.from;
      return handleAppendEntries(ctx, m);
    case 'Heartbeat':
      ctx.electionElapsed = 0;
      ctx.leaderId = m.from;
      return handleHeartbeat(ctx, m);
    case 'InstallSnapshot':
      ctx.electionElapsed = 0;
      ctx.leaderId = m.from;
      return handleInstallSnapshot(ctx, m);
    case 'TimeoutNow':
      // The leader hands over (leader-transfer.ts): campaign now, skipping pre-vote.
      if (ctx.promotable()) ctx.startElection('vote', true);
      return;
    default:
      // Late vote answers and leader-only answers mean nothing to a follower.
      return;
  }
}

/** §5.3: the consistency check, conflict truncation and commit learned from the leader. */
export function handleAppendEntries(ctx: RaftContext, m: AppendEntries): void {
  const answer = { type: 'AppendEntriesResult', from: ctx.id, to: m.from, term: ctx.term } as const;
  if (m.prevLogIndex < ctx.log.committed) {
    // Everything up to our commit matches any leader's log; tell the leader where we are.
    ctx.send({ ...answer, reject: false, index: ctx.log.committed, rejectHintIndex: 0, rejectHintTerm: 0 });
    return;
  }
  const lastNew = ctx.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries);
  if (lastNew !== null) {
    ctx.send({ ...answer, reject: false, index: lastNew, rejectHintIndex: 0, rejectHintTerm: 0 });
    return;
  }
  const hint = ctx.log.findConflictByTerm(Math.min(m.prevLogIndex, ctx.log.lastIndex()), m.prevLogTerm);
  ctx.send({ ...answer, reject: true, index: m.prevLogIndex, rejectHintIndex: hint.index, rejectHintTerm: hint.term });
}

export function handleHeartbeat(ctx: RaftContext, m: Heartbeat): void {
  ctx.log.commitTo(m.commit);
  ctx.send({ type: 'HeartbeatResult', from: ctx.id, to: m.from, term: ctx.term });
}

/** §7: restore the leader's snapshot unless the log already holds what it covers. */
export function handleInstallSnapshot(ctx: RaftContext, m: InstallSnapshot): void {
  const { snapshot } = m;
  if (snapshot.index > ctx.log.committed) {
    if (ctx.log.matchTerm(snapshot.index, snapshot.term)) {
      ctx.log.commitTo(snapshot.index); // our log has it: fast-forward instead of discarding entries
    } else {
      ctx.log.restoreSnapshot(snapshot);
      ctx.snapshot = snapshot;
    }
  }
  ctx.send({ type: 'AppendEntriesResult', from: ctx.id, to: m.from, term: ctx.term, reject: false, index: ctx.log.committed, rejectHintIndex: 0, rejectHintTerm: 0 });
}
