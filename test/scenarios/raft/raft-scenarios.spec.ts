import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Entry, RaftMessage } from '../../../src/domain/consensus/raft/raft-message';
import { RaftSafetyChecker } from '../../unit/domain/consensus/raft-safety-checker';
import { RaftTestNetwork } from '../../unit/domain/consensus/raft-test-network';

/**
 * etcd-style scripted scenarios (docs/style.md "Tests"): each `*.txt` file here is a list of blocks
 *
 *     command args…
 *     ----
 *     expected output
 *
 * separated by blank lines. The output is compared with what the Raft core produces; run with
 * UPDATE_GOLDEN=1 to rewrite the expected outputs after an intended change, then review the diff.
 *
 * Commands: `nodes <id>… [pre-vote=false] [check-quorum=false]` (first command), `campaign <id>`,
 * `propose <id> <data>`, `add-voter <leader> <id>`, `remove-voter <leader> <id>`, `tick <id> [n]`,
 * `tick-all [n]` (tick everyone and stabilize, n times), `stabilize` (prints the messages
 * delivered), `isolate <id>`, `partition <ids,…> <ids,…>`, `heal`, `crash <id>`, `restart <id>`,
 * `compact <id>`, `status`, `log <id>`, `applied <id>`, `transfer <leader> [<to>]` (leadership
 * transfer; without `<to>` the leader picks the most up-to-date voter).
 */

interface Block {
  readonly command: string;
  readonly expected: string;
}

const describeEntries = (entries: readonly Entry[]): string =>
  entries.map((e) => `${e.index}/${e.term}${e.type === 'normal' ? ` ${String(e.data)}` : ` ${e.type}`}`).join(', ');

function describeMessage(m: RaftMessage): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'AppendEntries':
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm} commit=${m.commit} entries=[${describeEntries(m.entries)}]`;
    case 'AppendEntriesResult':
      return m.reject ? `${head} reject index=${m.index} hint=${m.rejectHintIndex}/${m.rejectHintTerm}` : `${head} index=${m.index}`;
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre-vote' : ''}${m.leadershipTransfer ? ' transfer' : ''} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'RequestVoteResult':
      return `${head}${m.preVote ? ' pre-vote' : ''} ${m.reject ? 'rejected' : 'granted'}`;
    case 'Heartbeat':
      return `${head} commit=${m.commit}`;
    case 'HeartbeatResult':
      return head;
    case 'InstallSnapshot':
      return `${head} snapshot=${m.snapshot.index}/${m.snapshot.term} voters=${m.snapshot.voters.join(',')}`;
    case 'TimeoutNow':
      return head;
  }
}

/** Blocks are separated by blank lines; outputs never contain one. */
function parse(text: string): Block[] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((chunk) => {
      const [command = '', separator, ...expected] = chunk.split('\n');
      if (separator !== '----') throw new Error(`scenario block without ---- after: ${command}`);
      return { command: command.trim(), expected: expected.join('\n').trim() };
    });
}

class ScenarioRunner {
  private net: RaftTestNetwork | null = null;
  private checker: RaftSafetyChecker | null = null;

  run(command: string): string {
    const [verb = '', ...args] = command.split(/\s+/);
    if (verb === 'nodes') return this.create(args);
    const net = this.network();
    const output = this.execute(net, verb, args);
    this.checker?.check();
    return output;
  }

  private create(args: string[]): string {
    const ids = args.filter((a) => !a.includes('='));
    const flag = (name: string): boolean => !args.includes(`${name}=false`);
    const voters = args.find((a) => a.startsWith('voters='))?.slice('voters='.length).split(',');
    this.net = new RaftTestNetwork({ ids, preVote: flag('pre-vote'), checkQuorum: flag('check-quorum'), ...(voters ? { voters } : {}) });
    this.checker = new RaftSafetyChecker(this.net);
    return this.status(this.net);
  }

  private network(): RaftTestNetwork {
    if (this.net === null) throw new Error('the first command must be `nodes`');
    return this.net;
  }

  private execute(net: RaftTestNetwork, verb: string, args: string[]): string {
    const [a = '', b = ''] = args;
    switch (verb) {
      case 'campaign':
        net.node(a).campaign();
        return this.status(net);
      case 'propose': {
        const result = net.node(a).propose(b);
        return result.ok ? `ok index=${result.value.index} term=${result.value.term}` : `error ${JSON.stringify(result.error)}`;
      }
      case 'add-voter':
      case 'remove-voter': {
        const result = net.node(a).proposeConfChange({ type: verb === 'add-voter' ? 'AddVoter' : 'RemoveVoter', nodeId: b });
        return result.ok ? `ok index=${result.value.index} term=${result.value.term}` : `error ${JSON.stringify(result.error)}`;
      }
      case 'transfer': {
        const result = net.node(a).transferLeadership(b === '' ? null : b);
        return result.ok ? `ok transferee=${result.value}` : `error ${JSON.stringify(result.error)}`;
      }
      case 'tick':
        net.tick(a, Number(b || 1));
        return this.status(net);
      case 'tick-all':
        net.tickAll(Number(a || 1));
        return this.status(net);
      case 'stabilize':
        return this.stabilize(net);
      case 'isolate':
        net.isolate(a);
        return 'ok';
      case 'partition':
        net.partition(...args.map((group) => group.split(',')));
        return 'ok';
      case 'heal':
        net.heal();
        return 'ok';
      case 'crash':
        net.crash(a);
        return 'ok';
      case 'restart':
        net.restart(a);
        return this.status(net);
      case 'compact':
        return net.compact(a) ? `ok snapshot=${net.node(a).snapshot?.index}` : 'nothing to compact';
      case 'status':
        return this.status(net);
      case 'log':
        return describeEntries(net.node(a).log.slice(net.node(a).log.firstIndex(), net.node(a).log.lastIndex() + 1)) || '(empty)';
      case 'applied':
        return net.appliedData(a).map(String).join(', ') || '(none)';
      default:
        throw new Error(`unknown command ${verb}`);
    }
  }

  /** Like RaftTestNetwork.stabilize, printing every message as it is delivered. */
  private stabilize(net: RaftTestNetwork): string {
    const lines: string[] = [];
    for (let round = 0; round < 1000; round++) {
      for (const id of net.ids) while (net.processReady(id)) {}
      if (net.inFlight.length === 0) return [...lines, this.status(net)].join('\n');
      while (net.inFlight.length > 0) {
        const m = net.inFlight[0]!;
        lines.push(describeMessage(m));
        net.deliverAt(0);
      }
    }
    throw new Error('did not stabilize');
  }

  private status(net: RaftTestNetwork): string {
    return net.ids
      .map((id) => {
        if (net.crashed.has(id)) return `${id}: down`;
        const s = net.node(id).status();
        const transfer = s.leadTransferee === null ? '' : ` transferee=${s.leadTransferee}`;
        return `${id}: ${s.role} term=${s.term} vote=${s.vote ?? '-'} leader=${s.leaderId ?? '-'} commit=${s.commitIndex} last=${s.lastIndex}/${s.lastTerm} voters=${s.voters.join(',')}${transfer}`;
      })
      .join('\n');
  }
}

const dir = __dirname;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('Raft scenarios (golden transcripts)', () => {
  it('has scenarios', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', (file) => {
    const fullPath = path.join(dir, file);
    const blocks = parse(fs.readFileSync(fullPath, 'utf8'));
    const runner = new ScenarioRunner();
    const actual = blocks.map((block) => ({ command: block.command, expected: runner.run(block.command) }));
    if (process.env['UPDATE_GOLDEN'] === '1') {
      fs.writeFileSync(fullPath, actual.map((b) => `${b.command}\n----\n${b.expected}\n`).join('\n'));
      return;
    }
    actual.forEach((block, i) => {
      expect(`${block.command}\n----\n${block.expected}`).toBe(`${blocks[i]!.command}\n----\n${blocks[i]!.expected}`);
    });
  });
});
