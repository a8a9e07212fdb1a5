import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { createApiClient } from '../../../src/protocol/api-service-definition';
import { BrokerUnavailableError, LiftbridgeClient } from '../../../src/client';
import { call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { createTestCertificates, TestCertificates } from '../../support/test-certificates';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * TLS on the client API (docs/security.md): real handshakes against an in-process broker, with
 * certificates made by openssl for this file.
 */

let nats: TestNatsServer;
let certs: TestCertificates;

beforeAll(async () => {
  certs = createTestCertificates();
  nats = await TestNatsServer.start();
});

afterAll(async () => {
  await nats?.stop();
  certs?.remove();
});

const FAST_FAIL = { retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 10 } };

/** The certificate a TLS handshake with `port` presents (no client certificate). */
function servedCertificate(port: number, ca: Buffer = certs.ca): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.once('error', reject);
  });
}

describe('TLS on the client API', () => {
  let server: StartedTestBroker;

  beforeAll(async () => {
    server = await startTestBroker(testBrokerConfig(nats.url, { tls: { key: certs.server.keyFile, cert: certs.server.certFile } }));
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it('serves the configured certificate and answers a client that verifies it', async () => {
    const served = await servedCertificate(server.broker.port);
    expect(served.fingerprint256).toBe(new X509Certificate(certs.server.cert).fingerprint256);
    const client = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.ca } });
    try {
      await client.createStream('tls-orders', 'tls.orders');
      const ack = await client.publish('tls-orders', 'hello');
      expect(ack?.offset).toBe(0n);
    } finally {
      client.close();
    }
  });

  it('refuses a plaintext client', async () => {
    const client = connectClient(server.address);
    try {
      await expect(call(client.fetchMetadata, client, { streams: [], groups: [] }, 3000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      client.close();
    }
  });

  it('a client that cannot verify the server says so', async () => {
    const error = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.otherCa }, ...FAST_FAIL }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('openssl s_client sees the certificate and TLS 1.2 or later', async () => {
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        '/usr/bin/openssl',
        ['s_client', '-connect', `127.0.0.1:${server.broker.port}`, '-CAfile', certs.caFile, '-servername', 'localhost', '-alpn', 'h2'],
        { timeout: 10_000 },
        (_error, stdout) => resolve(stdout),
      );
      child.stdin?.end();
    });
    expect(output).toContain('Verify return code: 0 (ok)');
    expect(output).toMatch(/subject=CN ?= ?localhost/);
    expect(output).toMatch(/Protocol *: TLSv1\.[23]|New, TLSv1\.[23]/);
  });

  it('refuses TLS 1.1 and below', async () => {
    const error = await new Promise<Error>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.broker.port, ca: certs.ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () => {
        socket.destroy();
        reject(new Error('a TLS 1.1 handshake succeeded'));
      });
      socket.once('error', resolve);
    });
    expect(error.message).toMatch(/alert protocol version/); // the server's refusal, not the client's
  });
});

describe('certificate reload', () => {
  let server: StartedTestBroker;
  let live: { keyFile: string; certFile: string };

  /** Puts a key and certificate where the server reads them (key first, as an operator would). */
  const install = (files: { keyFile: string; certFile: string }): void => {
    fs.copyFileSync(files.keyFile, live.keyFile);
    fs.copyFileSync(files.certFile, live.certFile);
  };
  const fingerprint = (pem: Buffer): string => new X509Certificate(pem).fingerprint256;
  const served = async (): Promise<string> => (await servedCertificate(server.broker.port)).fingerprint256;
  const keptLines = (): number => server.logs.lines.filter((l) => l.msg === 'client API TLS certificate not reloaded: the one in force is kept').length;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(certs.dir, 'live-'));
    live = { keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem') };
    install(certs.server);
    server = await startTestBroker(testBrokerConfig(nats.url, { tls: { key: live.keyFile, cert: live.certFile } }));
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it('on SIGHUP: new connections get the new certificate, an open subscription keeps receiving', async () => {
    const client = createApiClient(server.address, grpc.credentials.createSsl(certs.ca));
    try {
      await call(client.createStream, client, { name: 'reloaded', subject: 'reloaded', partitions: 1 });
      const subscription = subscribe(client, { stream: 'reloaded', startPosition: api.StartPosition.EARLIEST });
      await subscription.ready;
      await call(client.publish, client, { stream: 'reloaded', value: Buffer.from('before'), expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER });
      await subscription.waitFor(1);

      install(certs.server2);
      await server.broker.reloadSecurity(); // what SIGHUP calls (test/integration/process/api-security-process.int.spec.ts sends the signal)
      expect(await served()).toBe(fingerprint(certs.server2.cert));

      // The connection opened before the reload goes on: the same stream and a new call on it.
      await call(client.publish, client, { stream: 'reloaded', value: Buffer.from('after'), expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER });
      expect((await subscription.waitFor(2)).map((m) => m.value.toString())).toEqual(['before', 'after']);
      subscription.cancel();
    } finally {
      client.close();
    }
  });

  it('when the files change, without a signal', async () => {
    install(certs.server);
    await waitFor(async () => (await served()) === fingerprint(certs.server.cert), 10_000, 'the server to serve the changed certificate');
  });

  it('keeps the certificate in force when the new key does not match, and says why', async () => {
    const before = await served();
    const kept = keptLines();
    fs.copyFileSync(certs.strayKeyFile, live.keyFile);
    await server.broker.reloadSecurity();
    expect(keptLines()).toBeGreaterThan(kept);
    const line = server.logs.lines.filter((l) => l.msg === 'client API TLS certificate not reloaded: the one in force is kept').at(-1)!;
    expect(line).toMatchObject({ key: 'tls.key', reason: expect.stringContaining('are not a usable PEM key and certificate pair') });
    expect(await served()).toBe(before);
    const client = await LiftbridgeClient.connect({ servers: [server.address], tls: { ca: certs.ca } });
    client.close();

    // Unreadable: the same.
    fs.rmSync(live.certFile);
    await server.broker.reloadSecurity();
    expect(server.logs.lines.filter((l) => l.msg === 'client API TLS certificate not reloaded: the one in force is kept').at(-1)).toMatchObject({
      key: 'tls.cert',
      reason: expect.stringContaining('ENOENT'),
    });
    expect(await served()).toBe(before);
    install(certs.server);
  });
});
