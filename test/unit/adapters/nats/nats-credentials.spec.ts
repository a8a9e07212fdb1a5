import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { credentialsFileAuthenticator, natsCredentialsProblem } from '../../../../src/adapters/outbound/nats/nats-credentials';
import { capturingLogger } from '../../../support/capturing-logger';
import { credsFile, TestOperator } from '../../../support/nats-jwt';

const operator = new TestOperator();
const NOW = Date.now();
const problem = (text: string): string | null => natsCredentialsProblem(Buffer.from(text), NOW);

describe('natsCredentialsProblem', () => {
  it('accepts a user JWT with the seed it was issued to', () => {
    expect(problem(operator.user().creds)).toBeNull();
  });

  it('says why a file is not usable credentials', () => {
    const a = operator.user();
    const b = operator.user();
    expect(problem('')).toMatch(/does not hold a JWT block and an nkey seed block/);
    expect(problem(credsFile('not-a-jwt', a.seed))).toBe('its first block is not a JWT');
    expect(problem(credsFile(a.jwt, Buffer.from('SUAnotaseed')))).toBe('its second block is not an nkey seed');
    expect(problem(credsFile(a.jwt, b.seed))).toBe(`its seed (user ${b.publicKey}) is not the one its JWT was issued to (${a.publicKey})`);
    const expired = operator.user({ expiresAtSec: Math.floor(NOW / 1000) - 1 });
    expect(problem(expired.creds)).toMatch(/^its JWT expired at \d{4}-/);
    const accountJwt = operator.serverConfig().match(/: (eyJ[^\s]+)\n}/)![1]!;
    expect(problem(credsFile(accountJwt, a.seed))).toBe('its JWT is a account JWT, not a user JWT');
  });
});

describe('credentialsFileAuthenticator', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-creds-unit-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const nkeyOf = (auth: unknown): string => (auth as { nkey: string }).nkey;

  it('reads the file at every connect, keeping the last good contents when it becomes unusable', () => {
    const file = path.join(dir, 'a.creds');
    const first = operator.user();
    fs.writeFileSync(file, first.creds);
    const { logger, lines } = capturingLogger();
    const authenticate = credentialsFileAuthenticator(file, logger);
    expect(nkeyOf(authenticate('nonce'))).toBe(first.publicKey);
    const renewed = operator.user();
    fs.writeFileSync(file, renewed.creds);
    expect(nkeyOf(authenticate('nonce'))).toBe(renewed.publicKey);
    fs.writeFileSync(file, 'half-written');
    expect(nkeyOf(authenticate('nonce'))).toBe(renewed.publicKey);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'NATS credentials file no longer usable: connecting with its last good contents')).toBe(true);
  });

  it('fails when the file was never usable', () => {
    expect(() => credentialsFileAuthenticator(path.join(dir, 'missing.creds'), capturingLogger().logger)('nonce')).toThrow(/cannot use the NATS credentials file .*ENOENT/);
  });
});
