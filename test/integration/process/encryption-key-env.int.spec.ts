import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { call, connectClient, readValues } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort } from '../../support/ports';

/**
 * The master key as an operator gives it: LIFTBRIDGE_ENCRYPTION_KEY in the environment of the
 * built executable (docs/encryption.md). Needs `npm run build`.
 */
const bin = path.resolve(__dirname, '../../../bin/liftbridge.js');
const KEY = 'env-master-key-of-exactly-32-b!!';
let nats: TestNatsServer;
let broker: BrokerProcess | null = null;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-enc-env-'));

beforeAll(async () => {
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  await broker?.kill();
  await nats?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('LIFTBRIDGE_ENCRYPTION_KEY', () => {
  it('is the master key of the server: values of streams.encryption streams are sealed on disk and read back', async () => {
    const port = await freePort();
    const args = ['--data-dir', dataDir, '--port', String(port), '--nats-servers', nats.url, '--raft-bootstrap-seed', '--id', 'a', '--namespace', `env${port}`];
    broker = await BrokerProcess.start(args, port, { ...process.env, LIFTBRIDGE_ENCRYPTION_KEY: KEY, LIFTBRIDGE_STREAMS_ENCRYPTION: 'true' });
    const client = connectClient(broker.address);
    try {
      await call(client.createStream, client, { name: 'env-sealed', subject: 'env-sealed' });
      await call(client.publish, client, { stream: 'env-sealed', value: Buffer.from('VALUE-SEALED-BY-ENV-KEY'), ackPolicy: api.AckPolicy.LEADER });
      expect(await readValues(client, { stream: 'env-sealed', startPosition: api.StartPosition.EARLIEST }, 1)).toEqual(['VALUE-SEALED-BY-ENV-KEY']);
    } finally {
      client.close();
    }
    await broker.stop();
    broker = null;
    const segments = path.join(dataDir, 'streams', 'env-sealed', '0');
    const stored = Buffer.concat(fs.readdirSync(segments).map((f) => fs.readFileSync(path.join(segments, f))));
    expect(stored.includes('VALUE-SEALED-BY-ENV-KEY')).toBe(false);
    expect(stored.length).toBeGreaterThan(0);
  });

  it('streams.encryption without a usable key: the server does not start, and names the variable, not the key', () => {
    const result = spawnSync(process.execPath, [bin, '--data-dir', dataDir, '--nats-servers', nats.url], {
      encoding: 'utf8',
      env: { ...process.env, LIFTBRIDGE_STREAMS_ENCRYPTION: 'true', LIFTBRIDGE_ENCRYPTION_KEY: 'wrong-length-secret' },
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('"streams.encryption" is true but LIFTBRIDGE_ENCRYPTION_KEY is 19 bytes long (it must be 16 or 32 bytes)');
    expect(result.stderr + result.stdout).not.toContain('wrong-length-secret');
  });
});
