import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NatsConnection } from 'nats';
import { Subjects } from '../../../src/adapters/outbound/nats/subjects';
import { call, connectClient } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * No input on `<ns>.raft.metadata.bootstrap` stops a server started with
 * `--raft-bootstrap-seed` (it used to exit with status 1 within milliseconds). Garbage and long
 * payloads are dropped and counted, logged as a bounded hex preview; a valid-looking foreign id is
 * a seed conflict, reported by /readyz and a metric, unless the cluster has a secret and the
 * announcement is not signed. The real server executable (dist/) runs each time.
 */
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==';

let nats: TestNatsServer;
let raw: NatsConnection;
const dirs: string[] = [];
const processes: BrokerProcess[] = [];

beforeAll(async () => {
  nats = await TestNatsServer.start();
  raw = await nats.connect();
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await nats?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function startSeed(env: NodeJS.ProcessEnv = {}): Promise<{ broker: BrokerProcess; httpPort: number; subjects: Subjects }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-seed-'));
  dirs.push(dir);
  const [port, httpPort] = [await freePort(), await freePort()];
  const namespace = `seed${port}`;
  const args = ['--id', 's1', '--namespace', namespace, '--data-dir', dir, '--port', String(port), '--nats-servers', nats.url, '--raft-bootstrap-seed'];
  const broker = await BrokerProcess.start(args, port, { ...process.env, LIFTBRIDGE_HTTP_PORT: String(httpPort), LIFTBRIDGE_HTTP_HOST: '127.0.0.1', ...env });
  processes.push(broker);
  return { broker, httpPort, subjects: new Subjects(namespace) };
}

const get = async (port: number, p: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
};

async function droppedAnnouncements(httpPort: number): Promise<number> {
  const text = (await get(httpPort, '/metrics')).body;
  return text
    .split('\n')
    .filter((l) => l.startsWith('liftbridge_dropped_messages_total{kind="seed-announcement"'))
    .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
}

/** Garbage with terminal escapes, half a MiB, and a valid-looking foreign id, each as Liftbridge sends announcements. */
async function announceJunk(subjects: Subjects): Promise<void> {
  const reply = { reply: subjects.bootstrapSeedReplies() };
  raw.publish(subjects.bootstrapSeeds(), Buffer.from('\x1b[2J\x00garbage\xff', 'latin1'), reply);
  raw.publish(subjects.bootstrapSeeds(), Buffer.alloc(512 * 1024, 0x41), reply);
  raw.publish(subjects.bootstrapSeeds(), Buffer.from('intruder'), reply);
  await raw.flush();
}

async function stillServes(broker: BrokerProcess, name: string): Promise<void> {
  const client = connectClient(broker.address);
  try {
    await call(client.createStream, client, { name, subject: name });
    expect((await call(client.fetchMetadata, client, { streams: [name] })).streamMetadata).toHaveLength(1);
  } finally {
    client.close();
  }
}

describe('a server started with --raft-bootstrap-seed', () => {
  it('keeps running and serving after garbage, a long payload and a foreign id, and reports the foreign seed in /readyz', async () => {
    const { broker, httpPort, subjects } = await startSeed();
    await announceJunk(subjects);
    await waitFor(async () => (await get(httpPort, '/readyz')).status === 503, 5000, '/readyz to report the conflict');
    expect(broker.running).toBe(true);
    const ready = JSON.parse((await get(httpPort, '/readyz')).body) as { checks: Record<string, boolean>; reasons: string[] };
    expect(ready.checks['bootstrap']).toBe(false);
    expect(ready.reasons).toContainEqual(expect.stringContaining('bootstrap: server intruder also announces itself as a bootstrap seed'));
    await waitFor(async () => (await droppedAnnouncements(httpPort)) === 2, 5000, 'the two invalid announcements counted');
    expect((await get(httpPort, '/metrics')).body).toContain('liftbridge_bootstrap_seed_conflict 1');
    await stillServes(broker, 'after-junk');
    expect(broker.running).toBe(true);
    expect(broker.logs).toContain('Server intruder was also started with raft.bootstrap.seed');
    expect(broker.logs).not.toContain('\x1b');
    expect(broker.logs).not.toContain('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(broker.logs.length).toBeLessThan(64 * 1024);
    expect(await broker.stop()).toEqual({ code: 0, signal: null });
  });

  it('with a cluster secret, counts an unsigned foreign id as refused input and stays ready', async () => {
    const { broker, httpPort, subjects } = await startSeed({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET: SECRET });
    await announceJunk(subjects);
    await waitFor(async () => (await droppedAnnouncements(httpPort)) === 3, 5000, 'the three unsigned announcements counted');
    const ready = await get(httpPort, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, checks: { nats: true, metadata: true, grpc: true, storage: true, partitions: true, bootstrap: true }, reasons: [] });
    await stillServes(broker, 'signed-only');
    expect(broker.logs).not.toContain('intruder');
    expect(await broker.stop()).toEqual({ code: 0, signal: null });
  });
});
