import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { call, connectClient } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * A server started while NATS is down stays up and not ready, retries with back-off, and finishes
 * starting by itself once NATS is reachable (docs/operability.md, "Starting while NATS is down").
 */
const dirs: string[] = [];
const processes: BrokerProcess[] = [];
const natsServers: TestNatsServer[] = [];

afterEach(async () => {
  for (const p of processes.splice(0)) await p.kill();
  for (const n of natsServers.splice(0)) await n.stop();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function get(port: number, urlPath: string): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
    return { status: res.status, body: await res.text() };
  } catch {
    return null; // not listening (yet)
  }
}

async function spawnWithoutNats(extraEnv: Record<string, string> = {}): Promise<{ broker: BrokerProcess; natsPort: number; httpPort: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-nonats-'));
  dirs.push(dataDir);
  const [port, natsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const args = ['--data-dir', dataDir, '--port', String(port), '--nats-servers', `nats://127.0.0.1:${natsPort}`, '--raft-bootstrap-seed', '--id', 'a', '--namespace', `ns${port}`];
  const env = { ...process.env, LIFTBRIDGE_HTTP_PORT: String(httpPort), LIFTBRIDGE_HTTP_HOST: '127.0.0.1', ...extraEnv };
  const broker = BrokerProcess.spawn(args, port, env);
  processes.push(broker);
  return { broker, natsPort, httpPort };
}

describe('reaching NATS at start-up', () => {
  it('stays alive and not ready, says why, and finishes starting once NATS is reachable', async () => {
    const { broker, natsPort, httpPort } = await spawnWithoutNats();
    let exited = false;
    void broker.exited().then(() => (exited = true));

    // Not ready, with the reason, after several failed attempts (the first one fails at once).
    let ready: { status: number; body: string } | null = null;
    await waitFor(
      async () => {
        if (exited) throw new Error(`the broker exited while NATS was down:\n${broker.logs}`);
        ready = await get(httpPort, '/readyz');
        return ready !== null && /attempt [3-9]/.test(ready.body);
      },
      15_000,
      'a few failed attempts to reach NATS',
    );
    expect(ready!.status).toBe(503);
    const body = JSON.parse(ready!.body) as { ready: boolean; checks: Record<string, boolean>; reasons: string[] };
    expect(body.ready).toBe(false);
    expect(body.checks.nats).toBe(false);
    expect(body.reasons).toContainEqual(expect.stringMatching(/^nats: NATS unreachable \(CONNECTION_REFUSED/));
    expect(await get(httpPort, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(broker.logs).toContain('NATS unreachable: retrying');

    natsServers.push(await TestNatsServer.start({ port: natsPort }));
    await broker.waitServing(20_000);
    await waitFor(async () => (await get(httpPort, '/readyz'))?.status === 200, 10_000, '/readyz to answer 200');
    expect(broker.logs).toContain('NATS reached');

    const client = connectClient(broker.address);
    try {
      await call(client.createStream, client, { name: 'after-nats', subject: 'after-nats.subject' });
      const metadata = await call(client.fetchMetadata, client, { streams: ['after-nats'] });
      expect(metadata.streamMetadata[0]!.partitions[0]!.leader).toBe('a');
    } finally {
      client.close();
    }
    expect(await broker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('gives up after nats.connect.timeout with a message naming it', async () => {
    const { broker } = await spawnWithoutNats({ LIFTBRIDGE_NATS_CONNECT_TIMEOUT: '1500ms' });
    let exit: unknown = null;
    void broker.exited().then((e) => (exit = e));
    await waitFor(() => exit !== null, 15_000, 'the broker to give up');
    expect(exit).toEqual({ code: 1, signal: null });
    expect(broker.logs).toMatch(/failed to start: NATS .* unreachable for \d+ ms, longer than "nats.connect.timeout"/);
  }, 30_000);

  it('stops cleanly on SIGTERM while it waits', async () => {
    const { broker, httpPort } = await spawnWithoutNats();
    await waitFor(async () => (await get(httpPort, '/readyz'))?.status === 503, 15_000, '/readyz to answer');
    expect(await broker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('uses nats.user and nats.password, and fails at once when NATS refuses them (waiting cannot cure it)', async () => {
    const nats = await TestNatsServer.start({ args: ['--user', 'lb', '--pass', 'secret'] });
    natsServers.push(nats);
    const good = await startTestBroker(testBrokerConfig(nats.url, { nats: { user: 'lb', password: 'secret' } }));
    try {
      expect(good.broker.readiness().checks['nats']).toBe(true);
    } finally {
      await good.destroy();
    }
    const bad = testBrokerConfig(nats.url, { nats: { user: 'lb', password: 'wrong' } });
    dirs.push(bad.dataDir);
    const startedAt = Date.now();
    await expect(startTestBroker(bad)).rejects.toThrow(/cannot connect to NATS .*AUTHORIZATION_VIOLATION/);
    expect(Date.now() - startedAt).toBeLessThan(5000);
  }, 30_000);

  it('uses nats.tls.cert, nats.tls.key and nats.tls.ca for mutual TLS', async () => {
    const tls = (name: string): string => path.join(__dirname, '..', '..', 'unit', 'infrastructure', 'config', 'fixtures', 'tls', name);
    // The fixture certificate is self-signed for "localhost": the server's certificate, its CA and our client certificate.
    const nats = await TestNatsServer.start({
      args: ['--tls', '--tlscert', tls('server.crt'), '--tlskey', tls('server.key'), '--tlsverify', '--tlscacert', tls('server.crt')],
    });
    natsServers.push(nats);
    const config = testBrokerConfig(`tls://localhost:${nats.port}`, {
      nats: { tlsCert: tls('server.crt'), tlsKey: tls('server.key'), tlsCa: tls('server.crt') },
    });
    const broker = await startTestBroker(config);
    try {
      expect(broker.broker.readiness().checks['nats']).toBe(true);
    } finally {
      await broker.destroy();
    }
  }, 30_000);
});
