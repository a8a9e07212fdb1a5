import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { createApiClient } from '../../../src/protocol/api-service-definition';
import { MasterKey } from '../../../src/adapters/outbound/crypto/master-key';
import { MessageAuthenticator } from '../../../src/adapters/outbound/nats/message-authenticator';
import type { BrokerConfig } from '../../../src/infrastructure/config/broker-config';
import { CONFIG_KEYS, ConfigKeySpec } from '../../../src/infrastructure/config/config-keys';
import { call } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { TestOperator } from '../../support/nats-jwt';
import { makeTestCertificates, TestCertificates } from '../../support/nats-test-certificates';
import { CertificateFiles, createTestCertificates, TestCertificates as ApiCertificates } from '../../support/test-certificates';
import { refusedStart, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Fail closed (docs/nats-security.md "Wrong settings stop the server"): every security-related configuration key either changes what the
 * server does, observably, or stops it with a message naming the key; none is accepted and
 * ignored. The keys come from the key table through a predicate, so a new security key fails
 * the first test until it gets a row in PROOFS. Each row is one key and how to prove it: what it
 * changes, seen from outside (a client, nats-server's monitor, the files on disk), and the real
 * executable refusing an unusable value with the key named.
 */

/** A key is security-related when its value is secret or its name says so. */
const SECURITY_TOKENS = new Set(['tls', 'auth', 'authz', 'user', 'password', 'secret', 'credentials', 'encryption', 'cert', 'key', 'ca', 'nkey', 'token']);
const isSecurityKey = (spec: ConfigKeySpec): boolean =>
  (spec.type.type === 'string' && spec.type.secret === true) || spec.key.split('.').some((token) => SECURITY_TOKENS.has(token));

const USER = 'lb';
const PASSWORD = 'the NATS password';
const SECRET = 'a cluster secret of at least 32 bytes!';
let certs: TestCertificates;
/** Certificates for the client API: a CA, a server certificate, clients `client1`/`client2`, one from another CA. */
let apiCerts: ApiCertificates;
let dir: string;
const operator = new TestOperator();
/** NATS that requires `USER`/`PASSWORD`; one that requires client certificates signed by `certs.ca`; one in operator mode; one plain. */
let passwordNats: TestNatsServer;
let certificateNats: TestNatsServer;
let operatorNats: TestNatsServer;
let plainNats: TestNatsServer;
const dataDirs: string[] = [];

beforeAll(async () => {
  certs = makeTestCertificates();
  apiCerts = createTestCertificates();
  dir = certs.dir;
  const write = (name: string, text: string): string => {
    fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
    return path.join(dir, name);
  };
  passwordNats = await TestNatsServer.start({ configFile: write('password.conf', `authorization { user: ${USER}, password: "${PASSWORD}" }\n`), monitor: true });
  certificateNats = await TestNatsServer.start({
    configFile: write('certificate.conf', `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }\n`),
    monitor: true,
  });
  operatorNats = await TestNatsServer.start({ configFile: write('operator.conf', operator.serverConfig()), monitor: true });
  plainNats = await TestNatsServer.start();
}, 30_000);

afterAll(async () => {
  for (const n of [passwordNats, certificateNats, operatorNats, plainNats]) await n?.stop();
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  certs?.remove();
  apiCerts?.remove();
});

const file = (name: string, text: string): string => {
  fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  return path.join(dir, name);
};

/**
 * Runs the real `liftbridge` executable with these settings (YAML, dotted keys) and expects it to
 * stop at start with a message naming `key`. Returns what it printed.
 */
function stopsNaming(key: string, settings: Record<string, string | boolean>, env: Record<string, string> = {}): string {
  const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
  const yaml = Object.entries({
    'data.dir': dataDir,
    port: '0',
    'nats.servers': plainNats.url,
    'clustering.raft.bootstrap.seed': true,
    'clustering.server.id': 'a',
    'clustering.namespace': `sec${Math.floor(Math.random() * 1e9)}`,
    ...settings,
  })
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n');
  const config = file(`config-${Math.floor(Math.random() * 1e9)}.yaml`, `${yaml}\n`);
  const bin = path.resolve(__dirname, '../../../bin/liftbridge.js');
  const result = spawnSync(process.execPath, [bin, '--config', config], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  const output = `${result.stdout}${result.stderr}`;
  expect({ status: result.status, signal: result.signal }).toEqual({ status: expect.any(Number), signal: null });
  expect(result.status).not.toBe(0);
  expect(output).toContain(`"${key}"`);
  return output;
}

/** Starts a broker in this process; returns the names and users NATS sees for its connections. */
async function startedConnections(nats: TestNatsServer, settings: Partial<BrokerConfig['nats']>): Promise<{ user?: string; tls?: string }[]> {
  const config = testBrokerConfig(nats.url, { nats: settings });
  dataDirs.push(config.dataDir);
  const started = await startTestBroker(config);
  try {
    const ours = (await nats.connections()).filter((c) => c.name?.startsWith(`LIFT.${config.clustering.namespace}.`));
    expect(ours).toHaveLength(4);
    return ours.map((c) => ({ ...(c.authorized_user ? { user: c.authorized_user } : {}), ...(c.tls_version ? { tls: c.tls_version } : {}) }));
  } finally {
    await started.stop();
  }
}

/** Start-up in this process fails; the message. */
const refusedInProcess = async (nats: TestNatsServer, settings: Partial<BrokerConfig['nats']>): Promise<string> =>
  (await refusedStart(testBrokerConfig(nats.url, { nats: settings }))).message;

/** One signed-or-not heartbeat of a broker started with these clustering settings, checked with `SECRET`. */
async function heartbeatVerifies(clustering: Partial<BrokerConfig['clustering']>): Promise<boolean> {
  const config = testBrokerConfig(plainNats.url, { clustering });
  dataDirs.push(config.dataDir);
  const subject = `${config.clustering.namespace}.raft.heartbeat`;
  const spy = await connect({ servers: plainNats.url });
  try {
    const sub = spy.subscribe(subject, { max: 1 });
    await spy.flush();
    const started = await startTestBroker(config);
    try {
      for await (const msg of sub) return typeof new MessageAuthenticator(Buffer.from(SECRET)).verify(subject, msg.reply ?? '', msg.data) !== 'string';
      return false;
    } finally {
      await started.stop();
    }
  } finally {
    await spy.close();
  }
}

const AUTHZ = path.join(__dirname, '../../support/authz');
/** The client API served with TLS (docs/security.md), as YAML settings and as a BrokerConfig part. */
const TLS_FILES = (): Record<string, string> => ({ 'tls.key': apiCerts.server.keyFile, 'tls.cert': apiCerts.server.certFile });
const TLS = (): Partial<BrokerConfig['tls']> => ({ key: apiCerts.server.keyFile, cert: apiCerts.server.certFile });
const MTLS = (): Partial<BrokerConfig['tls']> => ({ ...TLS(), clientAuthEnabled: true, clientAuthCa: apiCerts.caFile });
/** Liftbridge 1.9's model and example policy: client1 may FetchMetadata, client2 nothing. */
const AUTHZ_ON = (overrides: Partial<BrokerConfig['tls']> = {}): Partial<BrokerConfig['tls']> => ({
  ...MTLS(),
  clientAuthzEnabled: true,
  clientAuthzModel: path.join(AUTHZ, 'model.conf'),
  clientAuthzPolicy: path.join(AUTHZ, 'policy.csv'),
  ...overrides,
});

/** Starts a broker in this process with these client-API settings and runs `check` on its address. */
async function withApi(tls: Partial<BrokerConfig['tls']>, check: (address: string) => Promise<void>): Promise<void> {
  const config = testBrokerConfig(plainNats.url, { tls });
  dataDirs.push(config.dataDir);
  const started = await startTestBroker(config);
  try {
    await check(started.address);
  } finally {
    await started.stop();
  }
}

/** A FetchMetadata over gRPC: 'ok', or the status it ended with (code name and details). */
async function fetchMetadata(address: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = createApiClient(address, credentials);
  try {
    await call(client.fetchMetadata, client, {}, 5000);
    return 'ok';
  } catch (error) {
    const e = error as grpc.ServiceError;
    return `${grpc.status[e.code]}: ${e.details}`;
  } finally {
    client.close();
  }
}
const plaintext = (): grpc.ChannelCredentials => grpc.credentials.createInsecure();
const tlsAs = (identity: CertificateFiles | null = null, ca: Buffer = apiCerts.ca): grpc.ChannelCredentials =>
  identity === null ? grpc.credentials.createSsl(ca) : grpc.credentials.createSsl(ca, identity.key, identity.cert);
const NOT_AUTHORIZED = 'UNKNOWN: The client is not authorized to call FetchMetadata on resource *';

/** key → how to prove it: an observable effect, and the server stopping with the key named. */
const PROOFS: Record<string, () => Promise<void>> = {
  // The client API (docs/security.md).
  'tls.key': async () => {
    await withApi(TLS(), async (address) => {
      expect(await fetchMetadata(address, tlsAs())).toBe('ok');
      expect(await fetchMetadata(address, plaintext())).toMatch(/^UNAVAILABLE/);
    });
    stopsNaming('tls.key', { 'tls.key': apiCerts.strayKeyFile, 'tls.cert': apiCerts.server.certFile });
  },
  'tls.cert': async () => {
    // The certificate served is the one configured: a client trusting only another CA refuses it.
    await withApi(TLS(), async (address) => {
      expect(await fetchMetadata(address, tlsAs(null, apiCerts.otherCa))).toMatch(/^UNAVAILABLE/);
      expect(await fetchMetadata(address, tlsAs(null, apiCerts.ca))).toBe('ok');
    });
    stopsNaming('tls.cert', { 'tls.key': apiCerts.server.keyFile });
  },
  'tls.client.auth.enabled': async () => {
    await withApi(MTLS(), async (address) => {
      expect(await fetchMetadata(address, tlsAs())).toMatch(/^UNAVAILABLE/);
      expect(await fetchMetadata(address, tlsAs(apiCerts.client1))).toBe('ok');
    });
    stopsNaming('tls.client.auth.enabled', { 'tls.client.auth.enabled': true });
  },
  'tls.client.auth.ca': async () => {
    await withApi(MTLS(), async (address) => {
      expect(await fetchMetadata(address, tlsAs(apiCerts.foreignClient))).toMatch(/^UNAVAILABLE/);
      expect(await fetchMetadata(address, tlsAs(apiCerts.client2))).toBe('ok');
    });
    stopsNaming('tls.client.auth.ca', { ...TLS_FILES(), 'tls.client.auth.enabled': true, 'tls.client.auth.ca': file('not-a-ca.pem', 'not a certificate\n') });
  },
  'tls.client.authz.enabled': async () => {
    await withApi(AUTHZ_ON(), async (address) => {
      expect(await fetchMetadata(address, tlsAs(apiCerts.client1))).toBe('ok');
      expect(await fetchMetadata(address, tlsAs(apiCerts.client2))).toBe(NOT_AUTHORIZED);
    });
    stopsNaming('tls.client.authz.enabled', { ...TLS_FILES(), 'tls.client.authz.enabled': true, 'tls.client.authz.model': path.join(AUTHZ, 'model.conf'), 'tls.client.authz.policy': path.join(AUTHZ, 'policy.csv') });
  },
  'tls.client.authz.model': async () => {
    // A model that ignores the subject lets client2 do what client1 may.
    const anySubject = file('any-subject.conf', fs.readFileSync(path.join(AUTHZ, 'model.conf'), 'utf8').replace('r.sub == p.sub && ', ''));
    await withApi(AUTHZ_ON({ clientAuthzModel: anySubject }), async (address) => {
      expect(await fetchMetadata(address, tlsAs(apiCerts.client2))).toBe('ok');
    });
    stopsNaming('tls.client.authz.model', { ...TLS_FILES(), 'tls.client.auth.enabled': true, 'tls.client.authz.enabled': true, 'tls.client.authz.model': path.join(dir, 'missing.conf'), 'tls.client.authz.policy': path.join(AUTHZ, 'policy.csv') });
  },
  'tls.client.authz.policy': async () => {
    const client2Too = file('client2-too.csv', 'p, client2, *, FetchMetadata\n');
    await withApi(AUTHZ_ON({ clientAuthzPolicy: client2Too }), async (address) => {
      expect(await fetchMetadata(address, tlsAs(apiCerts.client2))).toBe('ok');
      expect(await fetchMetadata(address, tlsAs(apiCerts.client1))).toBe(NOT_AUTHORIZED);
    });
    stopsNaming('tls.client.authz.policy', { ...TLS_FILES(), 'tls.client.auth.enabled': true, 'tls.client.authz.enabled': true, 'tls.client.authz.model': path.join(AUTHZ, 'model.conf'), 'tls.client.authz.policy': path.join(dir, 'missing.csv') });
  },

  // Encryption at rest (docs/encryption.md): a published value is nowhere on disk in clear.
  'streams.encryption': async () => {
    const key = '0123456789abcdef0123456789abcdef';
    const value = 'a value that must not reach the disk in clear';
    const config = testBrokerConfig(plainNats.url, { streams: { encryption: true, encryptionKey: MasterKey.fromString(key) } });
    dataDirs.push(config.dataDir);
    const started = await startTestBroker(config);
    const client = createApiClient(started.address, plaintext());
    try {
      await call(client.createStream, client, { name: 'sealed', subject: 'sealed' });
      await call(client.publish, client, { stream: 'sealed', value: Buffer.from(value), ackPolicy: api.AckPolicy.LEADER, expectedOffset: -1n });
    } finally {
      client.close();
      await started.stop();
    }
    const files = fs.readdirSync(config.dataDir, { recursive: true }).map((f) => path.join(config.dataDir, String(f))).filter((f) => fs.statSync(f).isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(fs.readFileSync(f).includes(Buffer.from(value))).toBe(false);
    stopsNaming('streams.encryption', { 'streams.encryption': true });
  },

  // NATS (docs/nats-security.md): applied to every connection, refused by NATS → stops naming the key.
  'nats.user': async () => {
    expect(await startedConnections(passwordNats, { user: USER, password: PASSWORD })).toEqual(Array(4).fill({ user: USER }));
    expect(await refusedInProcess(passwordNats, { user: 'someone-else', password: PASSWORD })).toContain('"nats.user"');
    expect(await refusedInProcess(passwordNats, {})).toContain('set "nats.user" and "nats.password"');
  },
  'nats.password': async () => {
    expect(await refusedInProcess(passwordNats, { user: USER, password: 'wrong' })).toContain('"nats.password"');
    stopsNaming('nats.password', { 'nats.password': PASSWORD });
  },
  'nats.tls.cert': async () => {
    expect(await startedConnections(certificateNats, { tlsCert: certs.clientCert, tlsKey: certs.clientKey, tlsCa: certs.ca })).toEqual(Array(4).fill({ tls: expect.stringMatching(/^1\.[23]$/) }));
    expect(await refusedInProcess(certificateNats, { tlsCa: certs.ca })).toContain('set "nats.tls.cert" and "nats.tls.key"');
    expect(await refusedInProcess(certificateNats, { tlsCert: certs.otherClientCert, tlsKey: certs.otherClientKey, tlsCa: certs.ca })).toContain('refused the client certificate of "nats.tls.cert"');
    stopsNaming('nats.tls.cert', { 'nats.tls.cert': path.join(dir, 'missing.crt'), 'nats.tls.key': certs.clientKey });
  },
  'nats.tls.key': async () => {
    stopsNaming('nats.tls.key', { 'nats.tls.cert': certs.clientCert, 'nats.tls.key': certs.otherClientKey });
    stopsNaming('nats.tls.key', { 'nats.tls.key': certs.clientKey });
  },
  'nats.tls.ca': async () => {
    // The NATS server is verified by this CA: another CA stops the server, naming the key.
    expect(await refusedInProcess(certificateNats, { tlsCert: certs.clientCert, tlsKey: certs.clientKey, tlsCa: certs.otherCa })).toContain('"nats.tls.ca"');
    // Alone, it turns TLS on: a NATS server without TLS is refused.
    expect(await refusedInProcess(plainNats, { tlsCa: certs.ca })).toContain('"nats.tls.ca" ask for TLS, but the NATS server does not offer it');
    stopsNaming('nats.tls.ca', { 'nats.tls.ca': file('not-a-ca.pem', 'not a certificate\n') });
  },
  'nats.credentials': async () => {
    const user = operator.user();
    expect(await startedConnections(operatorNats, { credentials: file('user.creds', user.creds) })).toEqual(Array(4).fill({ user: user.publicKey }));
    const stranger = file('stranger.creds', operator.user({ account: TestOperator.strangerAccount() }).creds);
    expect(await refusedInProcess(operatorNats, { credentials: stranger })).toContain('NATS refused the credentials of "nats.credentials"');
    stopsNaming('nats.credentials', { 'nats.credentials': file('garbage.creds', 'garbage\n') });
  },

  // Cluster secret (docs/cluster.md "Authentication of internal traffic"): internal traffic is signed.
  'clustering.auth.secret': async () => {
    expect(await heartbeatVerifies({ authSecret: SECRET })).toBe(true);
    expect(await heartbeatVerifies({})).toBe(false);
    stopsNaming('clustering.auth.secret', { 'clustering.auth.secret': 'too short' });
  },
  'clustering.auth.secret.file': async () => {
    expect(await heartbeatVerifies({ authSecretFile: file('secret', `${SECRET}\n`) })).toBe(true);
    stopsNaming('clustering.auth.secret.file', { 'clustering.auth.secret.file': path.join(dir, 'missing-secret') });
  },
};

describe('every security setting is applied or refused, never ignored', () => {
  it('has a proof for every security-related key of the key table', () => {
    const keys = CONFIG_KEYS.filter(isSecurityKey).map((s) => s.key);
    expect(keys.sort()).toEqual(
      [
        'tls.key',
        'tls.cert',
        'tls.client.auth.enabled',
        'tls.client.auth.ca',
        'tls.client.authz.enabled',
        'tls.client.authz.model',
        'tls.client.authz.policy',
        'nats.user',
        'nats.password',
        'nats.tls.cert',
        'nats.tls.key',
        'nats.tls.ca',
        'nats.credentials',
        'streams.encryption',
        'clustering.auth.secret',
        'clustering.auth.secret.file',
      ].sort(),
    );
    expect(Object.keys(PROOFS).sort()).toEqual(keys);
  });

  it.each(Object.keys(PROOFS))('%s', async (key) => {
    await PROOFS[key]!();
  }, 60_000);
});
