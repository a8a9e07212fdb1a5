import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { LiftbridgeClient } from '../../../src/client';
import { CliResult, runCli } from '../../support/admin-cli';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** The admin CLI of the real executable (bin/liftbridge.js, compiled dist) against an in-process broker. */

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'bin', 'liftbridge.js');

let nats: TestNatsServer;
let server: StartedTestBroker;

/** Runs the executable against the test broker (or without `--servers`). */
function cli(args: readonly string[], options: { input?: string; servers?: boolean } = {}): Promise<CliResult> {
  return runCli(options.servers === false ? [...args] : [...args, '--servers', server.address], options.input);
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/ensure.js'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  nats = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(nats.url));
}, 120_000);

afterAll(async () => {
  await server?.destroy();
  await nats?.stop();
});

describe('liftbridge admin commands', () => {
  it('--help lists the admin commands next to the server options', async () => {
    const result = await cli(['--help'], { servers: false });
    expect(result.code).toBe(0);
    for (const text of ['stream create|list|describe|delete|pause|resume|readonly', 'publish <stream>', 'subscribe <stream>', 'bench', '--raft-bootstrap-seed']) {
      expect(result.stdout).toContain(text);
    }
  });

  it('manages a stream, publishes from arguments and stdin, and reads it back', async () => {
    const created = await cli(['stream', 'create', 'orders', '--subject', 'orders.created', '--partitions', '2', '--retention-max-age', '1h']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toBe('created stream orders (subject orders.created, 2 partitions)\n');

    // Independent reads run side by side to keep the suite fast.
    const [again, list, listJson, describe] = await Promise.all([
      cli(['stream', 'create', 'orders', '--subject', 'orders.created']),
      cli(['stream', 'list']),
      cli(['stream', 'list', '--json']),
      cli(['stream', 'describe', 'orders']),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^liftbridge stream create: .*exists/);

    expect(list.code).toBe(0);
    expect(lines(list.stdout)[0]).toMatch(/^NAME\s+SUBJECT\s+PARTITIONS\s+CREATED$/);
    expect(list.stdout).toMatch(/orders\s+orders\.created\s+2\s+\d{4}-\d\d-\d\dT/);
    expect(JSON.parse(listJson.stdout)).toEqual([expect.objectContaining({ name: 'orders', subject: 'orders.created', partitions: 2 })]);

    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+HW\s+NEWEST\s+PAUSED\s+READONLY/);
    expect(describe.stdout).toMatch(/\n0\s+a\s+a\s+a\s+-1\s+-1\s+no\s+no\n1\s+a\s+a\s+a\s+-1\s+-1\s+no\s+no\n$/);

    const fromArgs = await cli(['publish', 'orders', 'one', 'two', '--partition', '0', '--key', 'k1', '--header', 'trace=abc']);
    expect(fromArgs).toMatchObject({ code: 0, stderr: '' });
    expect(lines(fromArgs.stdout)).toEqual(['published to orders/0 at offset 0', 'published to orders/0 at offset 1']);

    const fromStdin = await cli(['publish', 'orders', '--json'], { input: 'three\nfour\n' });
    expect(fromStdin.code).toBe(0);
    expect(lines(fromStdin.stdout).map((l) => JSON.parse(l) as { partition: number; offset: string })).toEqual([
      expect.objectContaining({ stream: 'orders', partition: 0, offset: '2' }),
      expect.objectContaining({ stream: 'orders', partition: 0, offset: '3' }),
    ]);

    const [read, readJson, describeJson] = await Promise.all([
      cli(['subscribe', 'orders', '--from', 'earliest', '--stop', 'latest']),
      cli(['subscribe', 'orders', '--from', 'offset:1', '--stop', 'offset:1', '--json']),
      cli(['stream', 'describe', 'orders', '--json']),
    ]);
    expect(read).toMatchObject({ code: 0, stderr: '' });
    const rows = lines(read.stdout).map((l) => l.split('\t'));
    expect(rows.map((r) => [r[0], r[2], r[3]])).toEqual([
      ['0', 'k1', 'one'],
      ['1', 'k1', 'two'],
      ['2', '-', 'three'],
      ['3', '-', 'four'],
    ]);
    for (const row of rows) expect(row[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    expect(readJson.code).toBe(0);
    expect(lines(readJson.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ offset: '1', key: 'k1', value: 'two', headers: expect.objectContaining({ trace: 'abc' }) }),
    ]);

    const described = JSON.parse(describeJson.stdout) as { partitions: { id: number; highWatermark: string; newestOffset: string }[] };
    expect(described.partitions[0]).toMatchObject({ id: 0, highWatermark: '3', newestOffset: '3', paused: false, readonly: false });

    // Readonly refuses publishes until cleared.
    expect((await cli(['stream', 'readonly', 'orders', '--partitions', '0'])).stdout).toBe('made partition 0 of stream orders readonly\n');
    const refused = await cli(['publish', 'orders', 'five', '--partition', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^liftbridge publish: readonly partition/);
    expect((await cli(['stream', 'readonly', 'orders', '--off'])).code).toBe(0);
    expect((await cli(['publish', 'orders', 'five', '--partition', '0'])).stdout).toBe('published to orders/0 at offset 4\n');

    // Pause, then resume without publishing.
    expect((await cli(['stream', 'pause', 'orders', '--partitions', '1'])).stdout).toBe('paused partition 1 of stream orders\n');
    const paused = JSON.parse((await cli(['stream', 'describe', 'orders', '--json'])).stdout) as { partitions: { paused: boolean }[] };
    expect(paused.partitions.map((p) => p.paused)).toEqual([false, true]);
    const resumed = await cli(['stream', 'resume', 'orders', '--json']);
    expect(JSON.parse(resumed.stdout)).toEqual({ ok: true, stream: 'orders', resumed: [0, 1] });
    const after = JSON.parse((await cli(['stream', 'describe', 'orders', '--json'])).stdout) as { partitions: { paused: boolean }[] };
    expect(after.partitions.map((p) => p.paused)).toEqual([false, false]);

    const deleted = await cli(['stream', 'delete', 'orders']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'deleted stream orders\n' });
    expect((await cli(['stream', 'list'])).stdout).toBe('no streams\n');
  });

  it('tails new messages and ends cleanly on Ctrl-C', async () => {
    const client = await LiftbridgeClient.connect({ servers: [server.address] });
    try {
      await client.createStream('tail', 'tail.subject');
      const child = spawn(process.execPath, [bin, 'subscribe', 'tail', '--servers', server.address], { cwd: root });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      // Publish until the subscriber (started "new only") has printed one.
      await waitFor(
        async () => {
          await client.publish('tail', 'ping');
          return stdout.includes('\tping\n');
        },
        15_000,
        'the subscriber to print a message',
      );
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(lines(stdout).every((l) => /^\d+\t\S+\t-\tping$/.test(l))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('runs a small benchmark with progress on stderr and a summary', async () => {
    const result = await cli(['bench', '--stream', 'bench-it', '--messages', '300', '--size', '16', '--window', '64', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('publish: 300/300 (100%)');
    expect(result.stderr).toContain('subscribe: 300/300 (100%)');
    const summary = JSON.parse(result.stdout) as {
      messages: number;
      publish: { msgPerSec: number; p50Ms: number; p99Ms: number };
      subscribe: { received: number };
    };
    expect(summary.messages).toBe(300);
    expect(summary.subscribe.received).toBe(300);
    expect(summary.publish.msgPerSec).toBeGreaterThan(0);
    expect(summary.publish.p99Ms).toBeGreaterThanOrEqual(summary.publish.p50Ms);
    const table = await cli(['bench', '--stream', 'bench-it', '--messages', '20']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/PHASE\s+SECONDS\s+MSG\/S\s+MB\/S\s+ACK P50 MS\s+ACK P99 MS\npublish\s/);
  });

  it('fails with exit 1 and a readable message for an unknown stream', async () => {
    const results = await Promise.all([
      cli(['stream', 'describe', 'nope']),
      cli(['stream', 'delete', 'nope']),
      cli(['publish', 'nope', 'x']),
      cli(['subscribe', 'nope', '--from', 'earliest']),
    ]);
    const commands = ['stream describe', 'stream delete', 'publish', 'subscribe'];
    results.forEach((result, i) => {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^liftbridge ${commands[i]}: .*(no such stream|does not exist).*\\n$`));
    });
  });

  it('fails with exit 1 when no server answers, and exit 2 on bad usage', async () => {
    const unreachable = await cli(['stream', 'list', '--servers', '127.0.0.1:1'], { servers: false });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach a server');

    const usage = await Promise.all([
      cli(['stream', 'list', '--bogus']),
      cli(['stream', 'create', 'x']),
      cli(['publish', 'x', '--ack-policy', 'maybe']),
      cli(['stream'], { servers: false }),
    ]);
    for (const result of usage) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toBe('');
    }
    expect(usage[0]!.stderr).toContain("unknown option '--bogus'");
  });
});
