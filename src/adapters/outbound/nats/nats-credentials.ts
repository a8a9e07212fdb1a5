import { readFileSync } from 'node:fs';
import { Authenticator, credsAuthenticator, nkeys } from 'nats';
import type { Logger } from '../../../application/ports/logger.port';

/** nats.js exports nkeys untyped; this is the part used here. */
const keys = nkeys as { fromSeed(seed: Uint8Array): { getPublicKey(): string } };

/** The blocks of a `.creds` file, found as nats.js finds them (`-----BEGIN …-----` … `------END …------`). */
const CREDS_BLOCK = /\s*(?:(?:[-]{3,}[^\n]*[-]{3,}\n)(.+)(?:\n\s*[-]{3,}[^\n]*[-]{3,}\n))/gi;

interface JwtClaims {
  readonly sub?: unknown;
  readonly exp?: unknown;
  readonly nats?: { readonly type?: unknown };
}

function decodeJwtClaims(jwt: string): JwtClaims | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' ? (claims as JwtClaims) : null;
  } catch {
    return null;
  }
}

/**
 * Why `bytes` is not a usable NATS credentials file (a user JWT and the nkey seed it was issued
 * for, as `nsc` writes them), or null. Checked before connecting so that a wrong file stops the
 * server with a reason instead of an authorization error: the JWT must be a user JWT that has not
 * expired at `nowMs`, and the seed must be a user seed whose public key is the JWT's subject.
 */
export function natsCredentialsProblem(bytes: Uint8Array, nowMs: number): string | null {
  const text = Buffer.from(bytes).toString('utf8');
  const blocks = [...text.matchAll(CREDS_BLOCK)].map((m) => m[1]!.trim());
  if (blocks.length < 2) return 'it does not hold a JWT block and an nkey seed block (-----BEGIN NATS USER JWT----- …)';
  const [jwt, seed] = blocks as [string, string];
  const claims = decodeJwtClaims(jwt);
  if (claims === null || typeof claims.sub !== 'string') return 'its first block is not a JWT';
  if (claims.nats?.type !== undefined && claims.nats.type !== 'user') return `its JWT is a ${String(claims.nats.type)} JWT, not a user JWT`;
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs) return `its JWT expired at ${new Date(claims.exp * 1000).toISOString()}`;
  let publicKey: string;
  try {
    publicKey = keys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch {
    return 'its second block is not an nkey seed';
  }
  if (!publicKey.startsWith('U')) return 'its seed is not a user seed';
  if (publicKey !== claims.sub) return `its seed (user ${publicKey}) is not the one its JWT was issued to (${claims.sub})`;
  return null;
}

/**
 * A nats.js authenticator that reads the credentials file at every (re)connect, as the NATS Go
 * client does, so that a renewed JWT is picked up without a restart. A file that became unreadable
 * or invalid is logged and the last good contents are used: the connection keeps its identity
 * rather than failing on an operator's half-written file.
 */
export function credentialsFileAuthenticator(file: string, logger: Logger): Authenticator {
  let lastGood: Uint8Array | null = null;
  const current = (): Uint8Array => {
    let problem: string;
    try {
      const bytes = readFileSync(file);
      const invalid = natsCredentialsProblem(bytes, Date.now());
      if (invalid === null) return (lastGood = bytes);
      problem = invalid;
    } catch (error) {
      problem = (error as NodeJS.ErrnoException).code ?? String(error);
    }
    if (lastGood === null) throw new Error(`cannot use the NATS credentials file ${JSON.stringify(file)}: ${problem}`);
    logger.warn({ file, problem }, 'NATS credentials file no longer usable: connecting with its last good contents');
    return lastGood;
  };
  return credsAuthenticator(current);
}
