import { randomUUID } from 'node:crypto';
import { nkeys } from 'nats';

/** nats.js exports nkeys untyped; the part used here. */
interface KeyPair {
  getPublicKey(): string;
  getSeed(): Uint8Array;
  sign(input: Uint8Array): Uint8Array;
}
const keys = nkeys as { createOperator(): KeyPair; createAccount(): KeyPair; createUser(): KeyPair };

const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** A NATS JWT (v2) for `subject`, signed by `issuer`, as `nsc` issues them. */
function issue(issuer: KeyPair, subject: KeyPair, name: string, nats: Record<string, unknown>, expiresAtSec?: number): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims = {
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ...(expiresAtSec === undefined ? {} : { exp: expiresAtSec }),
    iss: issuer.getPublicKey(),
    name,
    sub: subject.getPublicKey(),
    nats: { ...nats, version: 2 },
  };
  const signed = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${b64url(issuer.sign(Buffer.from(signed)))}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1 };

/** The text of a `.creds` file, laid out as `nsc` writes it. */
export function credsFile(jwt: string, seed: Uint8Array): string {
  return [
    '-----BEGIN NATS USER JWT-----',
    jwt,
    '------END NATS USER JWT------',
    '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    'NKEYs are sensitive and should be treated as secrets.',
    '',
    '-----BEGIN USER NKEY SEED-----',
    Buffer.from(seed).toString('utf8'),
    '------END USER NKEY SEED------',
    '',
    '*************************************************************',
    '',
  ].join('\n');
}

/**
 * An operator with one account, for a nats-server in operator (JWT) mode without `nsc`: the
 * server configuration trusts the operator and preloads the account; `user()` issues users.
 */
export class TestOperator {
  private readonly operator = keys.createOperator();
  readonly account = keys.createAccount();

  /** nats-server configuration: the operator JWT and the account JWT in a memory resolver. */
  serverConfig(): string {
    const operatorJwt = issue(this.operator, this.operator, 'test-operator', { type: 'operator' });
    const accountJwt = issue(this.operator, this.account, 'test-account', {
      type: 'account',
      limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
      default_permissions: { pub: {}, sub: {} },
    });
    return `operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${this.account.getPublicKey()}: ${accountJwt}\n}\n`;
  }

  /** A user of the account (or of `account`, e.g. one the server does not know): its public key and `.creds` text. */
  user(options: { account?: KeyPair; expiresAtSec?: number } = {}): { publicKey: string; creds: string; seed: Uint8Array; jwt: string } {
    const user = keys.createUser();
    const jwt = issue(options.account ?? this.account, user, 'test-user', { type: 'user', pub: {}, sub: {}, ...UNLIMITED }, options.expiresAtSec);
    return { publicKey: user.getPublicKey(), creds: credsFile(jwt, user.getSeed()), seed: user.getSeed(), jwt };
  }

  /** An account this operator never told the server about. */
  static strangerAccount(): KeyPair {
    return keys.createAccount();
  }
}
