import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectClient, publishAndReadBack } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { TestOperator } from '../../support/nats-jwt';
import { waitFor } from '../../support/ports';
import { refusedStart, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * `nats.credentials` against a nats-server in operator (JWT) mode, built without `nsc`
 * (test/support/nats-jwt.ts): every connection authenticates as the file's user; a user the
 * server does not know, and a file that is not usable credentials, stop start-up naming the key;
 * a renewed file is used on the next reconnect.
 */
const operator = new TestOperator();
let dir: string;
let nats: TestNatsServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-creds-'));
  fs.writeFileSync(path.join(dir, 'operator.conf'), operator.serverConfig());
  nats = await TestNatsServer.start({ configFile: path.join(dir, 'operator.conf'), monitor: true });
});

afterAll(async () => {
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function credsAt(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

async function usersOf(namespace: string): Promise<string[]> {
  return (await nats.connections()).filter((c) => c.name?.startsWith(`LIFT.${namespace}.`)).map((c) => c.authorized_user ?? '');
}

const startFails = async (credentials: string): Promise<string> => (await refusedStart(testBrokerConfig(nats.url, { nats: { credentials } }))).message;

describe('nats.credentials', () => {
  it('authenticates every connection as the file\'s user, works end to end, and picks up a renewed file on reconnect', async () => {
    const first = operator.user();
    const file = credsAt('server.creds', first.creds);
    const config = testBrokerConfig(nats.url, { nats: { credentials: file } });
    const started = await startTestBroker(config);
    const namespace = config.clustering.namespace;
    try {
      expect(await usersOf(namespace)).toEqual([first.publicKey, first.publicKey, first.publicKey, first.publicKey]);
      const client = connectClient(started.address);
      try {
        expect(await publishAndReadBack(client, 'c', 'hello')).toEqual(['hello']);
      } finally {
        client.close();
      }

      // The operator renews the credentials; NATS restarts; the server reconnects with the new file.
      const renewed = operator.user();
      credsAt('server.creds', renewed.creds);
      const port = nats.port;
      await nats.stop();
      nats = await TestNatsServer.start({ configFile: path.join(dir, 'operator.conf'), monitor: true, port });
      await waitFor(async () => (await usersOf(namespace)).length === 4, 15_000, 'the four connections back');
      expect(new Set(await usersOf(namespace))).toEqual(new Set([renewed.publicKey]));
    } finally {
      await started.destroy();
    }
  }, 60_000);

  it('refuses to start when NATS does not know the user, naming the key', async () => {
    const stranger = operator.user({ account: TestOperator.strangerAccount() });
    const file = credsAt('stranger.creds', stranger.creds);
    expect(await startFails(file)).toMatch(/AUTHORIZATION_VIOLATION.*NATS refused the credentials of "nats.credentials" \(".*stranger.creds"\)/);
  }, 30_000);

  it('refuses to start with a file that is not usable credentials, naming the key, before connecting', async () => {
    const a = operator.user();
    const b = operator.user();
    const mismatched = credsAt('mismatched.creds', a.creds.replace(Buffer.from(a.seed).toString(), Buffer.from(b.seed).toString()));
    expect(await startFails(mismatched)).toContain(`The file of "nats.credentials" is not usable NATS credentials: its seed (user ${b.publicKey}) is not the one its JWT was issued to (${a.publicKey})`);
    const expired = credsAt('expired.creds', operator.user({ expiresAtSec: Math.floor(Date.now() / 1000) - 60 }).creds);
    expect(await startFails(expired)).toMatch(/The file of "nats.credentials" is not usable NATS credentials: its JWT expired at /);
    expect(await startFails(path.join(dir, 'missing.creds'))).toContain('Cannot read the file of "nats.credentials"');
  }, 30_000);
});
