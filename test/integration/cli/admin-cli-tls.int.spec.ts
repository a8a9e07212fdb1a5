import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CliResult, runCli } from '../../support/admin-cli';
import { TestNatsServer } from '../../support/nats-server';
import { createTestCertificates, TestCertificates } from '../../support/test-certificates';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** The admin CLI of the real executable against a broker that requires TLS and client certificates. */

const root = path.resolve(__dirname, '../../..');

let nats: TestNatsServer;
let certs: TestCertificates;
let server: StartedTestBroker;

const cli = (args: readonly string[]): Promise<CliResult> => runCli([...args, '--servers', server.address]);

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/ensure.js'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  certs = createTestCertificates();
  nats = await TestNatsServer.start();
  server = await startTestBroker(
    testBrokerConfig(nats.url, { tls: { key: certs.server.keyFile, cert: certs.server.certFile, clientAuthEnabled: true, clientAuthCa: certs.caFile } }),
  );
}, 120_000);

afterAll(async () => {
  await server?.destroy();
  await nats?.stop();
  certs?.remove();
});

describe('liftbridge admin commands over TLS', () => {
  it('work with --tls-ca, --tls-cert and --tls-key', async () => {
    const tls = ['--tls-ca', certs.caFile, '--tls-cert', certs.client1.certFile, '--tls-key', certs.client1.keyFile];
    expect(await cli(['stream', 'create', 'secure', '--subject', 'secure.subject', ...tls])).toMatchObject({ code: 0, stderr: '' });
    expect(await cli(['publish', 'secure', 'hello', ...tls])).toMatchObject({ code: 0, stderr: '' });
    const read = await cli(['subscribe', 'secure', '--from', 'earliest', '--stop', 'latest', ...tls]);
    expect(read).toMatchObject({ code: 0, stderr: '' });
    expect(read.stdout).toContain('hello');
  });

  it('say so when they cannot verify the server', async () => {
    const result = await cli(['stream', 'list', '--tls-ca', certs.otherCaFile, '--tls-cert', certs.client1.certFile, '--tls-key', certs.client1.keyFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^liftbridge stream list: TLS handshake failed: the server's certificate cannot be verified with the CA given \(tls\.ca\) \((unable to verify the first certificate|self-signed certificate in certificate chain)\); see --tls-ca, --tls-cert and --tls-key\n$/,
    );
    // Node's root CAs (--tls alone) do not know the test CA either.
    const roots = await cli(['stream', 'list', '--tls', '--tls-cert', certs.client1.certFile, '--tls-key', certs.client1.keyFile]);
    expect(roots.stderr).toContain("TLS handshake failed: the server's certificate cannot be verified");
  });

  it('say so when the server wants a client certificate', async () => {
    const result = await cli(['stream', 'list', '--tls-ca', certs.caFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('TLS handshake failed: the server requires a client certificate');
  });
});
