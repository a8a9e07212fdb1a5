import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { call, connectClient, subscribe } from '../../support/api-calls';
import { LiftbridgeClient } from '../../../src/client';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { acceptsConnections, freePort, waitFor } from '../../support/ports';

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'bin', 'liftbridge.js');

let nats: TestNatsServer;
const dirs: string[] = [];
const processes: BrokerProcess[] = [];
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-proc-'));
  dirs.push(dir);
  return dir;
};
const track = (p: BrokerProcess): BrokerProcess => {
  processes.push(p);
  return p;
};

beforeAll(async () => {
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await nats?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const serverArgs = (dataDir: string, port: number, extra: string[] = []): string[] => [
  '--data-dir',
  dataDir,
  '--port',
  String(port),
  '--nats-servers',
  nats.url,
  '--raft-bootstrap-seed',
  '--id',
  'a',
  '--namespace',
  `ns${port}`,
  ...extra,
];

describe('the liftbridge executable', () => {
  it('--help lists the options', () => {
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    for (const flag of ['--config', '--port', '--host', '--data-dir', '--nats-servers', '--embedded-nats', '--raft-bootstrap-seed', '--id', '--level']) {
      expect(result.stdout).toContain(flag);
    }
  });

  it('refuses an unknown configuration key with a message naming it', () => {
    const file = path.join(tempDir(), 'bad.yaml');
    fs.writeFileSync(file, 'port: 9999\nnot.a.real.key: 1\n');
    const result = spawnSync(process.execPath, [bin, '--config', file], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('not.a.real.key');
  });

  it('keeps every acknowledged message across kill -9 while publishing', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let broker = track(await BrokerProcess.start(serverArgs(dataDir, port), port));
    let client = connectClient(broker.address);
    await call(client.createStream, client, { name: 'durable', subject: 'durable.subject' });

    // Publish continuously with PublishAsync and record what was acknowledged, then kill -9 mid-stream.
    const acked = new Map<bigint, string>();
    const stream = client.publishAsync();
    stream.on('data', (r: api.PublishResponse) => {
      if (r.ack && !r.asyncError) acked.set(r.ack.offset, r.correlationId);
    });
    stream.on('error', () => undefined);
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 50; i++, sent++) stream.write({ stream: 'durable', value: Buffer.from(`value-${sent}`), correlationId: `value-${sent}`, expectedOffset: -1n });
    }, 1);
    await waitFor(() => acked.size >= 300, 20_000, '300 acks');
    await broker.kill();
    clearInterval(pump);
    client.close();
    expect(acked.size).toBeGreaterThanOrEqual(300);

    broker = track(await BrokerProcess.start(serverArgs(dataDir, port), port));
    client = connectClient(broker.address);
    const metadata = await call(client.fetchPartitionMetadata, client, { stream: 'durable', partition: 0 });
    const newest = Number(metadata.metadata!.newestOffset);
    expect(newest + 1).toBeGreaterThanOrEqual(acked.size);
    const sub = subscribe(client, { stream: 'durable', startPosition: api.StartPosition.EARLIEST, stopPosition: api.StopPosition.STOP_LATEST });
    await sub.done;
    const stored = new Map(sub.messages.map((m) => [m.offset, m.value.toString()]));
    const lost = [...acked].filter(([offset, value]) => stored.get(offset) !== value);
    expect(lost).toEqual([]);
    // Offsets are contiguous from 0.
    expect(sub.messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: newest + 1 }, (_, i) => i));
    client.close();
    const ended = await broker.stop('SIGTERM');
    expect(ended.code).toBe(0);
  });

  it('on SIGTERM ends open subscriptions with UNAVAILABLE and exits 0 within a second, with idle publishers connected', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const broker = track(await BrokerProcess.start(serverArgs(dataDir, port), port));
    const raw = connectClient(broker.address);
    await call(raw.createStream, raw, { name: 'shutdown', subject: 'shutdown.subject' });
    await call(raw.createStream, raw, { name: 'other', subject: 'other.subject' });
    await call(raw.publish, raw, { stream: 'shutdown', value: Buffer.from('one'), expectedOffset: -1n });
    const subs = [subscribe(raw, { stream: 'shutdown', startPosition: api.StartPosition.EARLIEST }), subscribe(raw, { stream: 'other' })];
    await subs[0]!.waitFor(1);
    await subs[1]!.ready;
    // The TS client: a subscription and a PublishAsync stream with nothing in flight.
    const client = await LiftbridgeClient.connect({ servers: [broker.address], retry: { attempts: 1 }, resubscribeWaitMs: 0 });
    const publisher = client.asyncPublisher();
    await publisher.publish('shutdown', 'two');
    const subscription = client.subscribe('other');
    await subscription.ready;

    const signalledAt = Date.now();
    const ended = await broker.stop('SIGTERM');
    const exitMs = Date.now() - signalledAt;
    const statuses = await Promise.all(subs.map((sub) => sub.done));
    raw.close();
    client.close();
    fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
    fs.appendFileSync(path.join(root, '.tmp', 'single-server-shutdown.jsonl'), `${JSON.stringify({ exitMs })}\n`);
    expect(ended.code).toBe(0);
    // UNAVAILABLE mid-stream: clients resubscribe elsewhere (go-liftbridge does on UNAVAILABLE only).
    for (const status of statuses) expect([status.code, status.details]).toEqual([14, 'server is shutting down']);
    expect(exitMs).toBeLessThan(1000);
  });

  it('refuses a second server on the same data directory', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    track(await BrokerProcess.start(serverArgs(dataDir, port), port));
    const otherPort = await freePort();
    const second = track(BrokerProcess.spawn(serverArgs(dataDir, otherPort), otherPort));
    const ended = await second.exited();
    expect(ended.code).not.toBe(0);
    expect(second.logs).toContain('in use by another liftbridge process');
  });

  it('starts an embedded NATS server by default and stops it on SIGTERM', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const natsPort = await freePort();
    const args = ['--data-dir', dataDir, '--port', String(port), '--raft-bootstrap-seed'];
    const broker = track(BrokerProcess.spawn(args, port, { ...process.env, LIFTBRIDGE_NATS_EMBEDDED_PORT: String(natsPort) }));
    await broker.waitServing(20_000);
    expect(await acceptsConnections(natsPort)).toBe(true);
    const client = connectClient(broker.address);
    await call(client.createStream, client, { name: 'embedded', subject: 'embedded.subject' });
    const ack = await call(client.publish, client, { stream: 'embedded', value: Buffer.from('hello'), expectedOffset: -1n });
    expect(ack.ack!.offset).toBe(0n);
    client.close();
    const ended = await broker.stop('SIGTERM');
    expect(ended.code).toBe(0);
    expect(await acceptsConnections(natsPort)).toBe(false);
  });
});
