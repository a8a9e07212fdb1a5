import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as api from '../../../src/protocol/api-types';
import { createApiClient } from '../../../src/protocol/api-service-definition';
import { call } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { createTestCertificates, TestCertificates } from '../../support/test-certificates';

/**
 * The client API's security in the real executable (docs/security.md): SIGHUP reloads the
 * certificate and the policy, is harmless without them, and a TLS setting that cannot be applied
 * stops the server at start with a message naming its key.
 */

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'bin', 'liftbridge.js');
const AUTHZ = path.join(__dirname, '../../support/authz');

let nats: TestNatsServer;
let certs: TestCertificates;
const processes: BrokerProcess[] = [];
const dirs: string[] = [];

const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-sec-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  certs = createTestCertificates();
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await nats?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  certs?.remove();
});

const serverArgs = (port: number, extra: readonly string[] = []): string[] => [
  '--data-dir', tempDir(),
  '--port', String(port),
  '--nats-servers', nats.url,
  '--raft-bootstrap-seed',
  '--id', 'a',
  '--namespace', `ns${port}`,
  ...extra,
];

/** Lines of the server's JSON log with this message. */
const logLines = (broker: BrokerProcess, msg: string): Record<string, unknown>[] =>
  broker.logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: certs.ca, servername: 'localhost', cert: certs.client1.cert, key: certs.client1.key }, () => {
      const fingerprint = socket.getPeerX509Certificate()!.fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

describe('SIGHUP', () => {
  it('is harmless without TLS or authorization (Go Liftbridge crashes)', async () => {
    const port = await freePort();
    const broker = await BrokerProcess.start(serverArgs(port), port);
    processes.push(broker);
    process.kill(broker.pid, 'SIGHUP');
    await waitFor(() => logLines(broker, 'SIGHUP: nothing to reload (no TLS, no authorization configured)').length === 1, 10_000, 'the SIGHUP log line');
    const client = createApiClient(broker.address, grpc.credentials.createInsecure());
    try {
      await call(client.fetchMetadata, client, { streams: [], groups: [] });
    } finally {
      client.close();
    }
    expect(broker.running).toBe(true);
  });

  it('reloads the certificate and the authorization policy of a running server', async () => {
    const dir = tempDir();
    const live = { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem'), policy: path.join(dir, 'policy.csv') };
    fs.copyFileSync(certs.server.keyFile, live.key);
    fs.copyFileSync(certs.server.certFile, live.cert);
    fs.copyFileSync(path.join(AUTHZ, 'policy.csv'), live.policy);
    const config = path.join(dir, 'liftbridge.yaml');
    fs.writeFileSync(
      config,
      [
        'tls:',
        `  key: ${live.key}`,
        `  cert: ${live.cert}`,
        '  client.auth.enabled: true',
        `  client.auth.ca: ${certs.caFile}`,
        '  client.authz.enabled: true',
        `  client.authz.model: ${path.join(AUTHZ, 'model.conf')}`,
        `  client.authz.policy: ${live.policy}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const credentials = (identity: { key: Buffer; cert: Buffer }): grpc.ChannelCredentials => grpc.credentials.createSsl(certs.ca, identity.key, identity.cert);
    const broker = await BrokerProcess.start(['--config', config, ...serverArgs(port)], port, process.env, { credentials: credentials(certs.client1) });
    processes.push(broker);
    const client2 = createApiClient(broker.address, credentials(certs.client2));
    try {
      const denied = { code: grpc.status.UNKNOWN, details: 'The client is not authorized to call FetchMetadata on resource *' };
      await expect(call(client2.fetchMetadata, client2, { streams: [], groups: [] })).rejects.toMatchObject(denied);

      fs.appendFileSync(live.policy, '\np, client2, *, FetchMetadata\n');
      fs.copyFileSync(certs.server2.keyFile, live.key);
      fs.copyFileSync(certs.server2.certFile, live.cert);
      process.kill(broker.pid, 'SIGHUP');
      await waitFor(() => logLines(broker, 'authorization policy reloaded').length === 1, 10_000, 'the policy reload');
      const response = await call(client2.fetchMetadata, client2, { streams: [], groups: [] });
      expect(response.brokers.map((b: api.Broker) => b.id)).toEqual(['a']);
      expect(await servedFingerprint(port)).toBe(new X509Certificate(certs.server2.cert).fingerprint256);
    } finally {
      client2.close();
    }
  });
});

describe('start refused for TLS settings that cannot be applied', () => {
  const start = (args: readonly string[]): { status: number | null; stderr: string } => {
    const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: result.status, stderr: result.stderr };
  };

  it.each([
    ['an unreadable key', () => ['--tls-key', path.join(certs.dir, 'missing.key'), '--tls-cert', certs.server.certFile], 'Cannot read the file of "tls.key"'],
    ['a key that does not match the certificate', () => ['--tls-key', certs.strayKeyFile, '--tls-cert', certs.server.certFile], 'The files of "tls.key" and "tls.cert" are not a usable PEM key and certificate pair'],
    ['a certificate without its key', () => ['--tls-cert', certs.server.certFile], '"tls.cert" is set but "tls.key" is not'],
  ])('%s', async (_what, args, message) => {
    const result = start(serverArgs(await freePort(), args()));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('a Node.js process that allows TLS below 1.2', async () => {
    const args = ['--tls-min-v1.0', bin, ...serverArgs(await freePort(), ['--tls-key', certs.server.keyFile, '--tls-cert', certs.server.certFile])];
    const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('"tls.key" and "tls.cert" serve TLS 1.2 or later, but this Node.js process allows TLSv1');
  });

  it.each([
    ['an unreadable client CA', (dir: string) => [`  client.auth.ca: ${path.join(dir, 'missing-ca.pem')}`], 'Cannot read the file of "tls.client.auth.ca"'],
    ['a client CA without client authentication', () => ['  client.auth.enabled: false', `  client.auth.ca: ${certs.caFile}`], '"tls.client.auth.ca" is set but "tls.client.auth.enabled" is not'],
    [
      'a policy Casbin cannot parse',
      (dir: string) => {
        fs.writeFileSync(path.join(dir, 'bad.csv'), 'p, client1, "foo, Publish\n');
        return ['  client.authz.enabled: true', `  client.authz.model: ${path.join(AUTHZ, 'model.conf')}`, `  client.authz.policy: ${path.join(dir, 'bad.csv')}`];
      },
      'The Casbin policy of "tls.client.authz.policy"',
    ],
    [
      'a model without a matcher',
      (dir: string) => {
        fs.writeFileSync(path.join(dir, 'bad.conf'), '[request_definition]\nr = sub, obj, act\n');
        return ['  client.authz.enabled: true', `  client.authz.model: ${path.join(dir, 'bad.conf')}`, `  client.authz.policy: ${path.join(AUTHZ, 'policy.csv')}`];
      },
      'The Casbin model of "tls.client.authz.model"',
    ],
  ])('%s', async (_what, lines, message) => {
    const dir = tempDir();
    const config = path.join(dir, 'liftbridge.yaml');
    const custom = lines(dir);
    const auth = custom.some((l) => l.startsWith('  client.auth.enabled')) ? [] : ['  client.auth.enabled: true'];
    fs.writeFileSync(config, ['tls:', `  key: ${certs.server.keyFile}`, `  cert: ${certs.server.certFile}`, ...auth, ...custom, ''].join('\n'));
    const result = start(['--config', config, ...serverArgs(await freePort())]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
