import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from 'nats';
import { MessageAuthenticator } from '../../../src/adapters/outbound/nats/message-authenticator';
import type { BrokerConfig } from '../../../src/infrastructure/config/broker-config';
import { CONFIG_KEYS, ConfigKeySpec } from '../../../src/infrastructure/config/config-keys';
import { TestNatsServer } from '../../support/nats-server';
import { TestOperator } from '../../support/nats-jwt';
import { makeTestCertificates, TestCertificates } from '../../support/test-certificates';
import { refusedStart, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Fail closed (issue 15): every security-related configuration key either changes what the
 * server does, observably, or stops it with a message naming the key; none is accepted and
 * ignored. The keys come from the key table through a predicate, so a new security key fails
 * the first test until it gets a row in PROOFS. Each row is one key and how to prove it; a key
 * whose feature is not built yet is proven by the real executable refusing it (its row changes
 * when the feature lands).
 */

/** A key is security-related when its value is secret or its name says so. */
const SECURITY_TOKENS = new Set(['tls', 'auth', 'authz', 'user', 'password', 'secret', 'credentials', 'encryption', 'cert', 'key', 'ca', 'nkey', 'token']);
const isSecurityKey = (spec: ConfigKeySpec): boolean =>
  (spec.type.type === 'string' && spec.type.secret === true) || spec.key.split('.').some((token) => SECURITY_TOKENS.has(token));

const USER = 'lb';
const PASSWORD = 'the NATS password';
const SECRET = 'a cluster secret of at least 32 bytes!';
let certs: TestCertificates;
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

const TLS_FILES = (): Record<string, string> => ({ 'tls.key': certs.serverKey, 'tls.cert': certs.serverCert });
const AUTHZ_FILES = (): Record<string, string> => ({
  'tls.client.authz.model': file('model.conf', '[request_definition]\nr = sub, obj, act\n'),
  'tls.client.authz.policy': file('policy.csv', 'p, client1, *, FetchMetadata\n'),
});
const notBuilt = (key: string, settings: () => Record<string, string | boolean>, env: Record<string, string> = {}) => async (): Promise<void> => {
  expect(stopsNaming(key, settings(), env)).toMatch(new RegExp(`"${key.replace(/\./g, '\\.')}" is .*not implemented yet`));
};

/** key → how to prove it: an observable effect, or the server stopping with the key named. */
const PROOFS: Record<string, () => Promise<void>> = {
  // Not built yet (TLS and authorization of the client API, encryption at rest): refused at start.
  'tls.key': notBuilt('tls.key', TLS_FILES),
  'tls.cert': notBuilt('tls.cert', TLS_FILES),
  'tls.client.auth.enabled': notBuilt('tls.client.auth.enabled', () => ({ ...TLS_FILES(), 'tls.client.auth.enabled': true })),
  'tls.client.auth.ca': notBuilt('tls.client.auth.ca', () => ({ ...TLS_FILES(), 'tls.client.auth.enabled': true, 'tls.client.auth.ca': certs.ca })),
  'tls.client.authz.enabled': notBuilt('tls.client.authz.enabled', () => ({ ...TLS_FILES(), ...AUTHZ_FILES(), 'tls.client.auth.enabled': true, 'tls.client.authz.enabled': true })),
  'tls.client.authz.model': notBuilt('tls.client.authz.model', () => ({ 'tls.client.authz.model': AUTHZ_FILES()['tls.client.authz.model']! })),
  'tls.client.authz.policy': notBuilt('tls.client.authz.policy', () => ({ 'tls.client.authz.policy': AUTHZ_FILES()['tls.client.authz.policy']! })),
  'streams.encryption': notBuilt('streams.encryption', () => ({ 'streams.encryption': true }), { LIFTBRIDGE_ENCRYPTION_KEY: '0123456789abcdef0123456789abcdef' }),

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
