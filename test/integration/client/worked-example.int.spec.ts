import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { LiftbridgeClient, groupCursorId } from '../../../src/client';
import { TestNatsServer } from '../../support/nats-server';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';
import { waitFor } from '../../support/wait-for';

/**
 * The worked example of docs/consumers.md "A worked example" (docs/examples/billing-group.ts),
 * run as a user runs it, against a real server: it consumes what is published, Ctrl-C checkpoints
 * and leaves, and the next member resumes after the checkpoints with no gap and no repeat.
 */
const root = path.resolve(__dirname, '../../..');
const PARTITIONS = 6;

interface Member {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function startMember(address: string, id: string): Member {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'docs/examples/billing-group.ts', id], {
    cwd: root,
    env: { ...process.env, LIFTBRIDGE_ADDR: address },
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    if (code !== 0) console.error(`member ${id} exited ${code}: ${stderr}`);
  });
  return { child, lines, exited };
}

let nats: TestNatsServer;
let server: StartedTestBroker;
let client: LiftbridgeClient;
const members: Member[] = [];

beforeAll(async () => {
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url, { cursors: { streamPartitions: 1 } }));
  client = await LiftbridgeClient.connect({ servers: [server.address], retry: { attempts: 40, backoffMs: 100, maxBackoffMs: 500 } });
}, 40_000);

afterAll(async () => {
  for (const m of members) if (m.child.exitCode === null) m.child.kill('SIGKILL');
  client?.close();
  await server?.destroy();
  await nats?.stop();
});

async function publish(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await client.publish('orders', `order-${i}`, { partition: i % PARTITIONS });
}

const orders = (m: Member): string[] => m.lines.map((line) => line.split(' ')[1]!).sort();
const range = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `order-${from + i}`).sort();

it('runs as documented: consumes, checkpoints and leaves on Ctrl-C, and the next member resumes with no gap and no repeat', async () => {
  const first = startMember(server.address, 'billing-1');
  members.push(first);
  await waitFor(async () => (await client.fetchMetadata(['orders'])).streamMetadata.some((s) => s.name === 'orders' && s.error === 0), 30_000, 'orders created by the example');
  await waitFor(async () => (await client.fetchGroupMetadata('billing')) !== null, 30_000, 'the member joined');
  await publish(0, 18);
  await waitFor(() => first.lines.length >= 18, 30_000, 'the first member printed 18 orders');
  expect(orders(first)).toEqual(range(0, 18));
  expect(first.lines[0]).toMatch(/^orders\/\d@\d+ order-\d+$/);

  first.child.kill('SIGINT');
  expect(await first.exited).toBe(0);
  for (let p = 0; p < PARTITIONS; p++) expect(await client.fetchCursor({ id: groupCursorId('billing'), stream: 'orders', partition: p })).toBe(2n);
  expect(await client.fetchGroupMetadata('billing')).toBeNull(); // the last member left: the group is gone

  await publish(18, 12);
  const second = startMember(server.address, 'billing-2');
  members.push(second);
  await waitFor(() => second.lines.length >= 12, 30_000, 'the second member printed the 12 new orders');
  expect(orders(second)).toEqual(range(18, 12));
  second.child.kill('SIGINT');
  expect(await second.exited).toBe(0);
}, 120_000);
