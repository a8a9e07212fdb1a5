import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrokerConfig } from '../../../src/infrastructure/config/broker-config';
import { connectClient, publishAndReadBack } from '../../support/api-calls';
import type { MonitoredConnection } from '../../support/nats-server';
import { acceptsConnections, freePort } from '../../support/ports';
import { makeTestCertificates, TestCertificates } from '../../support/nats-test-certificates';
import { startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * The embedded nats-server secured by its own `nats.embedded.config` (docs/nats-security.md
 * "Embedded NATS"): the broker's connections use nats.user/nats.password and nats.tls.* against
 * it and work; with a wrong password the broker refuses to start and stops its nats-server.
 */
let certs: TestCertificates;
const dataDirs: string[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
});

afterAll(() => {
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  certs?.remove();
});

async function embeddedConfig(): Promise<{ file: string; port: number; monitorPort: number }> {
  const [port, monitorPort] = [await freePort(), await freePort()];
  const file = path.join(certs.dir, `embedded-${port}.conf`);
  fs.writeFileSync(
    file,
    [
      `http: "127.0.0.1:${monitorPort}"`,
      'authorization { user: lb, password: "embedded secret" }',
      `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }`,
      '',
    ].join('\n'),
  );
  return { file, port, monitorPort };
}

function config(embedded: { file: string; port: number }, security: Partial<BrokerConfig['nats']>): BrokerConfig {
  const c = testBrokerConfig(`nats://127.0.0.1:${embedded.port}`, {
    nats: { embedded: true, embeddedConfig: embedded.file, embeddedPort: embedded.port, ...security },
  });
  dataDirs.push(c.dataDir);
  return c;
}

const secured = (): Partial<BrokerConfig['nats']> => ({ user: 'lb', password: 'embedded secret', tlsCert: certs.clientCert, tlsKey: certs.clientKey, tlsCa: certs.ca });

describe('an embedded nats-server that requires a password and client certificates', () => {
  it('is used with nats.user, nats.password and nats.tls.* by every connection', async () => {
    const embedded = await embeddedConfig();
    const cfg = config(embedded, secured());
    const started = await startTestBroker(cfg);
    try {
      const res = await fetch(`http://127.0.0.1:${embedded.monitorPort}/connz?auth=true`);
      const connections = ((await res.json()) as { connections: MonitoredConnection[] }).connections;
      const ours = connections.filter((c) => c.name?.startsWith(`LIFT.${cfg.clustering.namespace}.`));
      expect(ours).toHaveLength(4);
      for (const c of ours) {
        expect(c.tls_version).toMatch(/^1\.[23]$/);
        expect(c.authorized_user).toBe('lb');
      }
      const client = connectClient(started.address);
      try {
        expect(await publishAndReadBack(client, 'e', 'over TLS')).toEqual(['over TLS']);
      } finally {
        client.close();
      }
    } finally {
      await started.stop();
    }
    expect(await acceptsConnections(embedded.port)).toBe(false);
  }, 30_000);

  it('with a wrong password, refuses to start naming the settings and stops its nats-server', async () => {
    const embedded = await embeddedConfig();
    await expect(startTestBroker(config(embedded, { ...secured(), password: 'wrong' }))).rejects.toThrow(
      /NATS refused the user and password of "nats.user" and "nats.password"/,
    );
    expect(await acceptsConnections(embedded.port)).toBe(false);
  }, 30_000);
});
