import { connect, NatsConnection } from 'nats';
import { encodeRaftMessage, RAFT_MESSAGE_MSG_TYPE } from '../../../src/adapters/codec/raft-message-codec';
import { wrapEnvelope } from '../../../src/protocol/envelope';
import { NatsRaftTransport } from '../../../src/adapters/outbound/nats/nats-raft-transport';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import type { Logger } from '../../../src/application/ports/logger.port';
import type { RaftMessage } from '../../../src/domain/consensus/raft';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';

const logLines: { level: string; msg: string }[] = [];
const logger: Logger = {
  debug: (_o, msg) => logLines.push({ level: 'debug', msg }),
  info: (_o, msg) => logLines.push({ level: 'info', msg }),
  warn: (_o, msg) => logLines.push({ level: 'warn', msg }),
  error: (_o, msg) => logLines.push({ level: 'error', msg }),
  child: () => logger,
};

let natsServer: TestNatsServer;
const connections: NatsConnection[] = [];
let namespaceCounter = 0;

beforeAll(async () => {
  natsServer = await TestNatsServer.start();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await natsServer?.stop();
});

async function newConnection(): Promise<NatsConnection> {
  const nc = await connect({ servers: natsServer.url });
  connections.push(nc);
  return nc;
}

interface Node {
  readonly transport: NatsRaftTransport;
  readonly received: RaftMessage[];
  completed: boolean;
}

/** Three transports, each on its own connection, in a fresh namespace. */
async function cluster(ids: readonly string[]): Promise<{ subjects: Subjects; nodes: Record<string, Node> }> {
  const subjects = new Subjects(`raft-test-${++namespaceCounter}`);
  const nodes: Record<string, Node> = {};
  for (const id of ids) {
    const transport = new NatsRaftTransport(await newConnection(), subjects, id, logger);
    const node: Node = { transport, received: [], completed: false };
    transport.inbound$.subscribe({ next: (m) => node.received.push(m), complete: () => (node.completed = true) });
    await transport.ready();
    nodes[id] = node;
  }
  return { subjects, nodes };
}

const vote = (from: string, to: string): RaftMessage => ({ type: 'RequestVote', from, to, term: 3, preVote: true, lastLogIndex: 10, lastLogTerm: 2 });
const append = (from: string, to: string, index: number): RaftMessage => ({
  type: 'AppendEntries',
  from,
  to,
  term: 3,
  prevLogIndex: index - 1,
  prevLogTerm: 3,
  commit: index - 1,
  entries: [{ index, term: 3, type: 'normal', data: index % 2 === 0 ? `entry ${index}` : new Uint8Array([index, 0, 255]) }],
});

describe('NatsRaftTransport', () => {
  it('uses <ns>.raft.node.<serverId>, disjoint from Liftbridge\'s raft.metadata subjects, and refuses ids that are not one token', () => {
    const subjects = new Subjects('liftbridge-default');
    expect(subjects.raftInbox('s1')).toBe('liftbridge-default.raft.node.s1');
    expect(subjects.raftInbox('metadata')).toBe('liftbridge-default.raft.node.metadata');
    for (const bad of ['', 'a.b', '*', '>', 'a b']) expect(() => subjects.raftInbox(bad)).toThrow(RangeError);
  });

  it('three servers exchange messages, each arriving at its destination only and in order per sender', async () => {
    const { nodes } = await cluster(['a', 'b', 'c']);
    const a = nodes['a']!;
    const b = nodes['b']!;
    const c = nodes['c']!;
    a.transport.send([vote('a', 'b'), vote('a', 'c')]);
    b.transport.send([vote('b', 'a'), vote('b', 'c')]);
    const appends = [1, 2, 3, 4, 5].map((i) => append('c', 'a', i));
    c.transport.send(appends);
    await waitFor(() => a.received.length === 6 && b.received.length === 1 && c.received.length === 2, 5_000, 'all messages delivered');
    // Order holds per sender (one connection each), not across senders.
    expect(a.received.filter((m) => m.from === 'c')).toEqual(appends);
    expect(a.received.filter((m) => m.from === 'b')).toEqual([vote('b', 'a')]);
    expect(b.received).toEqual([vote('a', 'b')]);
    expect(c.received).toEqual(expect.arrayContaining([vote('a', 'c'), vote('b', 'c')]));
    for (const n of [a, b, c]) expect(n.transport.counters).toEqual({ decodeFailures: 0, oversizedDropped: 0, publishFailures: 0, misaddressed: 0 });
    await Promise.all([a, b, c].map((n) => n.transport.close()));
  });

  it('a message to an unknown server is simply lost', async () => {
    const { nodes } = await cluster(['a', 'b']);
    const a = nodes['a']!;
    const b = nodes['b']!;
    expect(() => a.transport.send([vote('a', 'nobody'), vote('a', 'b')])).not.toThrow();
    await waitFor(() => b.received.length === 1, 5_000, 'the message to b');
    expect(b.received).toEqual([vote('a', 'b')]);
    expect(a.received).toEqual([]);
    await Promise.all([a, b].map((n) => n.transport.close()));
  });

  it('drops and counts undecodable messages, then keeps delivering', async () => {
    const { subjects, nodes } = await cluster(['a']);
    const a = nodes['a']!;
    const raw = await newConnection();
    raw.publish(subjects.raftInbox('a'), new Uint8Array([1, 2, 3]));
    raw.publish(subjects.raftInbox('a'), wrapEnvelope(RAFT_MESSAGE_MSG_TYPE, Buffer.from('{"type":"Nope"}'), { crc: true }));
    raw.publish(subjects.raftInbox('a'), encodeRaftMessage(vote('x', 'a')));
    await waitFor(() => a.received.length === 1, 5_000, 'the valid message');
    expect(a.received).toEqual([vote('x', 'a')]);
    expect(a.transport.counters.decodeFailures).toBe(2);
    await a.transport.close();
  });

  it('drops, counts and logs a message larger than the max payload', async () => {
    const { nodes } = await cluster(['a', 'b']);
    const a = nodes['a']!;
    const b = nodes['b']!;
    const max = connections[connections.length - 1]!.info!.max_payload;
    const huge: RaftMessage = { type: 'InstallSnapshot', from: 'a', to: 'b', term: 1, snapshot: { index: 1, term: 1, voters: ['a', 'b'], data: new Uint8Array(max) } };
    a.transport.send([huge, vote('a', 'b')]);
    await waitFor(() => b.received.length === 1, 5_000, 'the small message');
    expect(b.received).toEqual([vote('a', 'b')]);
    expect(a.transport.counters.oversizedDropped).toBe(1);
    expect(logLines).toContainEqual({ level: 'error', msg: 'dropping raft message larger than the NATS max payload' });
    await Promise.all([a, b].map((n) => n.transport.close()));
  });

  it('close completes inbound$ and stops delivery', async () => {
    const { subjects, nodes } = await cluster(['a', 'b']);
    const a = nodes['a']!;
    const b = nodes['b']!;
    await b.transport.close();
    expect(b.completed).toBe(true);
    a.transport.send([vote('a', 'b')]);
    b.transport.send([vote('b', 'a')]);
    // A probe subscriber proves the message to b did travel (and would have arrived) before we look.
    const probe = await newConnection();
    const seen: Uint8Array[] = [];
    probe.subscribe(subjects.raftInbox('b'), { callback: (_e, m) => seen.push(m.data) });
    await probe.flush();
    a.transport.send([vote('a', 'b')]);
    await waitFor(() => seen.length === 1, 5_000, 'the probe to see the message');
    expect(b.received).toEqual([]);
    expect(a.received).toEqual([]);
    await b.transport.close(); // idempotent
    await a.transport.close();
  });
});
