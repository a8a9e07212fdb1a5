/**
 * What signing costs (docs/cluster.md "Authentication"): sign and verify of a 1 MiB replication
 * reply and of a small Raft message with the cluster secret, in µs of CPU time (user + system, so
 * that other jobs on a shared machine count less) per message, median of 7 runs.
 * Run: node -r ts-node/register/transpile-only bench/internal-mac.ts
 */
import { encodeRaftMessage } from '../src/adapters/codec/raft-message-codec';
import { MessageAuthenticator } from '../src/adapters/outbound/nats/message-authenticator';

const mac = new MessageAuthenticator(Buffer.from('c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==', 'utf8'));
const reply = Buffer.alloc(1024 * 1024, 7);
const raft = encodeRaftMessage({ type: 'AppendEntries', from: 'a', to: 'b', term: 3, prevLogIndex: 41, prevLogTerm: 3, commit: 41, entries: [] });

function microsPerOp(iterations: number, op: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) op();
    const used = process.cpuUsage(start);
    runs.push((used.user + used.system) / iterations);
  }
  return runs.sort((a, b) => a - b)[3]!;
}

const inbox = '_INBOX.ABCDEFGHIJKLMNOPQRSTUV.17';
const signedReply = mac.sign(inbox, '', reply);
const signedRaft = mac.sign('liftbridge-default.raft.node.b', '', raft);
const rows = [
  ['1 MiB replication reply: sign (HMAC + copy)', microsPerOp(200, () => mac.sign(inbox, '', reply))],
  ['1 MiB replication reply: verify', microsPerOp(200, () => mac.verify(inbox, '', signedReply))],
  [`Raft AppendEntries (${raft.length} B): sign`, microsPerOp(50_000, () => mac.sign('liftbridge-default.raft.node.b', '', raft))],
  [`Raft AppendEntries (${raft.length} B): verify`, microsPerOp(50_000, () => mac.verify('liftbridge-default.raft.node.b', '', signedRaft))],
  ['copy of 1 MiB alone (for comparison)', microsPerOp(200, () => Buffer.from(reply))],
] as const;
for (const [what, us] of rows) console.log(`${what.padEnd(48)} ${us.toFixed(1).padStart(8)} µs`);
