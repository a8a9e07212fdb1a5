import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBrokerConfig, type BrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { checkConfiguredFiles } from '../../../../src/infrastructure/config/config-file-checks';
import { TestOperator } from '../../../support/nats-jwt';

const tlsFixture = (name: string): string => join(__dirname, 'fixtures', 'tls', name);
const KEY = tlsFixture('server.key');
const CERT = tlsFixture('server.crt');
const OTHER_KEY = tlsFixture('other.key');

const base = defaultBrokerConfig();
const withTls = (tls: Partial<BrokerConfig['tls']>): BrokerConfig => ({ ...base, tls: { ...base.tls, ...tls } });
const withNats = (nats: Partial<BrokerConfig['nats']>): BrokerConfig => ({ ...base, nats: { ...base.nats, ...nats } });
const messages = async (config: BrokerConfig): Promise<string[]> => (await checkConfiguredFiles(config)).map((i) => i.message);

describe('start-up checks of referenced files (bad input C7)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liftbridge-files-'));
    await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n');
    await writeFile(join(dir, 'nats-server'), '#!/bin/sh\n');
    await chmod(join(dir, 'nats-server'), 0o644);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the defaults and a matching key and certificate', async () => {
    expect(await messages(base)).toEqual([]);
    expect(await messages(withTls({ key: KEY, cert: CERT, clientAuthEnabled: true, clientAuthCa: CERT }))).toEqual([]);
    expect(await messages(withNats({ tlsKey: KEY, tlsCert: CERT, tlsCa: CERT }))).toEqual([]);
  });

  it('reports a missing file, naming the key and path', async () => {
    const missing = join(dir, 'missing.pem');
    expect(await messages(withTls({ key: missing, cert: CERT }))).toEqual([
      `Cannot read the file of "tls.key": ${JSON.stringify(missing)} (ENOENT)`,
    ]);
    expect(await messages(withTls({ clientAuthzEnabled: true, clientAuthzModel: missing, clientAuthzPolicy: missing }))).toHaveLength(2);
  });

  it('reports a key that does not match the certificate', async () => {
    const [m, ...rest] = await messages(withTls({ key: OTHER_KEY, cert: CERT }));
    expect(rest).toEqual([]);
    expect(m).toMatch(/^The files of "tls.key" and "tls.cert" are not a usable PEM key and certificate pair \(.*mismatch.*\)$/);
  });

  it('reports malformed PEM files', async () => {
    const garbage = join(dir, 'garbage.pem');
    expect(await messages(withTls({ key: KEY, cert: garbage }))).toEqual([
      expect.stringContaining('The files of "tls.key" and "tls.cert" are not a usable PEM key and certificate pair'),
    ]);
    expect(await messages(withNats({ tlsKey: garbage, tlsCert: CERT }))).toEqual([
      expect.stringContaining('The files of "nats.tls.key" and "nats.tls.cert"'),
    ]);
    expect(await messages(withTls({ clientAuthCa: KEY }))).toEqual([
      expect.stringContaining('The file of "tls.client.auth.ca" does not start with a PEM certificate'),
    ]);
    expect(await messages(withNats({ tlsCa: garbage }))).toEqual([expect.stringContaining('"nats.tls.ca"')]);
  });

  it('checks the NATS credentials file: readable, a user JWT with its own seed', async () => {
    const creds = join(dir, 'user.creds');
    await writeFile(creds, new TestOperator().user().creds);
    expect(await messages(withNats({ credentials: creds }))).toEqual([]);
    expect(await messages(withNats({ credentials: join(dir, 'garbage.pem') }))).toEqual([
      'The file of "nats.credentials" is not usable NATS credentials: it does not hold a JWT block and an nkey seed block (-----BEGIN NATS USER JWT----- …)',
    ]);
    expect(await messages(withNats({ credentials: join(dir, 'none.creds') }))).toEqual([`Cannot read the file of "nats.credentials": ${JSON.stringify(join(dir, 'none.creds'))} (ENOENT)`]);
  });

  it('checks the embedded nats-server config and binary only when embedded', async () => {
    const missing = join(dir, 'nats.conf');
    expect(await messages(withNats({ embedded: true, embeddedConfig: missing }))).toEqual([
      `Cannot read the file of "nats.embedded.config": ${JSON.stringify(missing)} (ENOENT)`,
    ]);
    expect(await messages(withNats({ embedded: false, embeddedConfig: missing }))).toEqual([]);
    const notExecutable = join(dir, 'nats-server');
    expect(await messages(withNats({ embedded: true, embeddedBinary: notExecutable }))).toEqual([
      `The nats-server binary of "nats.embedded.binary" is not an executable file: ${JSON.stringify(notExecutable)}`,
    ]);
  });
});
