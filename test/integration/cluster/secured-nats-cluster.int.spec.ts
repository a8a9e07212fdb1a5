import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import type { BrokerConfig } from '../../../src/infrastructure/config/broker-config';
import { call, readValues } from '../../support/api-calls';
import { InProcessCluster } from '../../support/in-process-cluster';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/ports';
import { makeTestCertificates, TestCertificates } from '../../support/nats-test-certificates';
import { refusedStart, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * NATS security applied to every connection a server opens (docs/nats-security.md): three servers
 * on a nats-server that requires a password and a client certificate signed by its CA form a
 * cluster, replicate and acknowledge; the nats-server lists each of their connections as TLS and
 * authenticated. Each way of getting the settings wrong stops start-up at once with a message
 * naming the settings to fix, instead of retrying.
 */
const USER = 'lb';
const PASSWORD = 'a password for NATS';
let certs: TestCertificates;
let nats: TestNatsServer;
const others: TestNatsServer[] = [];

function natsConfig(name: string, text: string): string {
  const file = path.join(certs.dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const tlsBlock = (verify: boolean): string =>
  `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: ${verify}, timeout: 2 }\n`;

/** Every security setting a server needs for `nats`. */
const secured = (): Partial<BrokerConfig['nats']> => ({ user: USER, password: PASSWORD, tlsCert: certs.clientCert, tlsKey: certs.clientKey, tlsCa: certs.ca });

beforeAll(async () => {
  certs = makeTestCertificates();
  const config = natsConfig('secured.conf', `authorization { user: ${USER}, password: "${PASSWORD}" }\n${tlsBlock(true)}`);
  nats = await TestNatsServer.start({ configFile: config, monitor: true });
});

afterAll(async () => {
  for (const n of others.splice(0)) await n.stop();
  await nats?.stop();
  certs?.remove();
});

/** Start-up with these NATS settings fails: the message, and how long it took. */
const refusedWith = (url: string, settings: Partial<BrokerConfig['nats']>): Promise<{ message: string; ms: number }> =>
  refusedStart(testBrokerConfig(url, { nats: settings }));

describe('a cluster on NATS that requires a password and client certificates', () => {
  it('forms, replicates and acknowledges, with every connection of every server on TLS and authenticated', async () => {
    const namespace = `sec${Math.floor(Math.random() * 1e9)}`;
    const ids = ['a', 'b', 'c'];
    const cluster = new InProcessCluster(nats.url, ids, namespace, 2000, undefined, undefined, secured());
    try {
      await cluster.startAll();
      const client = cluster.client('a');
      await waitFor(async () => (await call(client.fetchMetadata, client, {})).brokers.length === 3, 15_000, 'three brokers');
      await call(client.createStream, client, { name: 's', subject: 's', replicationFactor: 3, minIsr: { value: 3 } });
      let leader = '';
      await waitFor(async () => {
        leader = (await call(client.fetchMetadata, client, { streams: ['s'] })).streamMetadata[0]?.partitions[0]?.leader ?? '';
        return leader !== '' && call(cluster.client(leader).fetchPartitionMetadata, cluster.client(leader), { stream: 's', partition: 0 }).then(() => true, () => false);
      }, 15_000, 'the partition leader to serve');
      const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
      for (const [i, value] of values.entries()) {
        // minIsr 3 with AckPolicy ALL: each ack needs both followers to have fetched it (replication over NATS).
        const ack = await call(cluster.client(leader).publish, cluster.client(leader), { stream: 's', value: Buffer.from(value), ackPolicy: api.AckPolicy.ALL, expectedOffset: -1n });
        expect(ack.ack!.offset).toBe(BigInt(i));
      }
      for (const id of ids) {
        expect(await readValues(cluster.client(id), { stream: 's', startPosition: api.StartPosition.EARLIEST, readISRReplica: true }, values.length)).toEqual(values);
      }

      const ours = (await nats.connections()).filter((c) => c.name?.startsWith(`LIFT.${namespace}.`));
      const expected = ids.flatMap((id) => ['streams', 'publishes', 'raft', 'replication'].map((n) => `LIFT.${namespace}.${id}.${n}`));
      expect(ours.map((c) => c.name).sort()).toEqual(expected.sort());
      for (const c of ours) {
        expect(c.tls_version).toMatch(/^1\.[23]$/);
        expect(c.authorized_user).toBe(USER);
      }
    } finally {
      await cluster.destroy();
    }
  }, 90_000);

  it('refuses to start with a wrong or missing password, naming the settings', async () => {
    const wrong = await refusedWith(nats.url, { ...secured(), password: 'wrong' });
    expect(wrong.message).toMatch(/AUTHORIZATION_VIOLATION.*NATS refused the user and password of "nats.user" and "nats.password" \(user "lb"\)/);
    expect(wrong.ms).toBeLessThan(5000);
    const { user: _user, password: _password, ...withoutPassword } = secured();
    const missing = await refusedWith(nats.url, withoutPassword);
    expect(missing.message).toContain('the NATS server requires authentication: set "nats.user" and "nats.password", or "nats.credentials"');
  }, 30_000);

  it('refuses to start without a client certificate, or with one the NATS server does not trust, at once', async () => {
    const { tlsCert: _cert, tlsKey: _key, ...withoutCertificate } = secured();
    const missing = await refusedWith(nats.url, withoutCertificate);
    expect(missing.message).toMatch(/ended the connection right after the TLS handshake .*the NATS server requires a client certificate: set "nats.tls.cert" and "nats.tls.key"/);
    // Not nats.js's 20 s connect timeout, and not retried.
    expect(missing.ms).toBeLessThan(5000);
    const untrusted = await refusedWith(nats.url, { ...secured(), tlsCert: certs.otherClientCert, tlsKey: certs.otherClientKey });
    expect(untrusted.message).toContain(`the NATS server refused the client certificate of "nats.tls.cert" (${JSON.stringify(certs.otherClientCert)})`);
    expect(untrusted.ms).toBeLessThan(5000);
  }, 30_000);

  it('refuses to start when the NATS server\'s certificate is not signed by the CA it trusts', async () => {
    const wrongCa = await refusedWith(nats.url, { ...secured(), tlsCa: certs.otherCa });
    expect(wrongCa.message).toContain(`the NATS server's certificate is not accepted with the CA of "nats.tls.ca" (${JSON.stringify(certs.otherCa)})`);
    const { tlsCa: _ca, ...systemRoots } = secured();
    const noCa = await refusedWith(nats.url, systemRoots);
    expect(noCa.message).toContain('the NATS server\'s certificate is not signed by a CA this system trusts: set "nats.tls.ca"');
  }, 30_000);
});

describe('nats.tls.ca alone', () => {
  it('verifies the NATS server by that CA, without a client certificate', async () => {
    const tlsOnly = await TestNatsServer.start({ configFile: natsConfig('tls-only.conf', tlsBlock(false)), monitor: true });
    others.push(tlsOnly);
    const config = testBrokerConfig(tlsOnly.url, { nats: { tlsCa: certs.ca } });
    const started = await startTestBroker(config);
    try {
      const ours = (await tlsOnly.connections()).filter((c) => c.name?.startsWith(`LIFT.${config.clustering.namespace}.`));
      expect(ours).toHaveLength(4);
      for (const c of ours) expect(c.tls_version).toMatch(/^1\.[23]$/);
    } finally {
      await started.destroy();
    }
    const wrongCa = await refusedWith(tlsOnly.url, { tlsCa: certs.otherCa });
    expect(wrongCa.message).toContain('"nats.tls.ca"');
  }, 30_000);

  it('refuses to start when NATS does not offer TLS, naming the TLS settings', async () => {
    const plain = await TestNatsServer.start();
    others.push(plain);
    const refused = await refusedWith(plain.url, { tlsCa: certs.ca });
    expect(refused.message).toContain('"nats.tls.ca" ask for TLS, but the NATS server does not offer it');
  }, 30_000);
});
