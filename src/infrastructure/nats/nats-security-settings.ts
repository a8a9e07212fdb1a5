import { readFile } from 'node:fs/promises';
import { NatsUnavailableError } from '../../application/errors/broker-errors';
import { NatsRefusal, NatsRefusedError } from '../../adapters/outbound/nats/nats-connect-refusal';
import type { NatsConnectionSettings } from '../../adapters/outbound/nats/nats-connection-factory';
import { natsCredentialsProblem } from '../../adapters/outbound/nats/nats-credentials';
import type { BrokerConfig } from '../config/broker-config';

type NatsConfig = BrokerConfig['nats'];

/**
 * The security part of every NATS connection's settings (docs/nats-security.md): each connection
 * the server opens (streams, publishes, raft, replication) gets all of it.
 */
export function natsSecuritySettings(nats: NatsConfig): Pick<NatsConnectionSettings, 'user' | 'password' | 'tls' | 'credentialsFile'> {
  const clientCertificate = nats.tlsCert !== undefined && nats.tlsKey !== undefined;
  return {
    ...(nats.user !== undefined ? { user: nats.user } : {}),
    ...(nats.password !== undefined ? { password: nats.password } : {}),
    ...(nats.credentials !== undefined ? { credentialsFile: nats.credentials } : {}),
    ...(clientCertificate || nats.tlsCa !== undefined
      ? {
          tls: {
            ...(clientCertificate ? { certFile: nats.tlsCert, keyFile: nats.tlsKey } : {}),
            ...(nats.tlsCa !== undefined ? { caFile: nats.tlsCa } : {}),
          },
        }
      : {}),
  };
}

/**
 * Why the file of `nats.credentials` cannot be used, naming the key, or null. The command line
 * checks it with the other files; `Broker.start` checks it too, for servers embedded in a program.
 */
export async function natsCredentialsFileIssue(nats: NatsConfig): Promise<string | null> {
  if (nats.credentials === undefined) return null;
  let bytes: Buffer;
  try {
    bytes = await readFile(nats.credentials);
  } catch (error) {
    return `Cannot read the file of "nats.credentials": ${JSON.stringify(nats.credentials)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const problem = natsCredentialsProblem(bytes, Date.now());
  return problem === null ? null : `The file of "nats.credentials" is not usable NATS credentials: ${problem}`;
}

const quoted = (keys: readonly string[]): string => keys.map((k) => `"${k}"`).join(', ');

/** What to fix, by the settings' names, when NATS refused us as `refusal` says. */
export function natsRefusalAdvice(refusal: NatsRefusal, nats: NatsConfig): string {
  const tlsKeys = [nats.tlsCert !== undefined ? 'nats.tls.cert' : null, nats.tlsKey !== undefined ? 'nats.tls.key' : null, nats.tlsCa !== undefined ? 'nats.tls.ca' : null];
  switch (refusal) {
    case 'authentication':
      if (nats.credentials !== undefined) return `NATS refused the credentials of "nats.credentials" (${JSON.stringify(nats.credentials)})`;
      if (nats.user !== undefined) return `NATS refused the user and password of "nats.user" and "nats.password" (user ${JSON.stringify(nats.user)})`;
      return 'the NATS server requires authentication: set "nats.user" and "nats.password", or "nats.credentials"';
    case 'server-certificate':
      return nats.tlsCa !== undefined
        ? `the NATS server's certificate is not accepted with the CA of "nats.tls.ca" (${JSON.stringify(nats.tlsCa)}): it must be signed by that CA and name the host of "nats.servers"`
        : `the NATS server's certificate is not signed by a CA this system trusts: set "nats.tls.ca" to the CA that signed it`;
    case 'client-certificate':
      return nats.tlsCert !== undefined
        ? `the NATS server refused the client certificate of "nats.tls.cert" (${JSON.stringify(nats.tlsCert)}): it must be signed by a CA the NATS server trusts`
        : 'the NATS server requires a client certificate: set "nats.tls.cert" and "nats.tls.key"';
    case 'tls-not-offered':
      return `${quoted(tlsKeys.filter((k): k is string => k !== null))} ask for TLS, but the NATS server does not offer it`;
    case 'tls':
      return `TLS to NATS failed: check ${quoted(['nats.tls.cert', 'nats.tls.key', 'nats.tls.ca'])}`;
  }
}

/** `error`, with the settings to fix named when it is a refusal by NATS. */
export function namingNatsSettings(error: unknown, nats: NatsConfig): unknown {
  if (!(error instanceof NatsRefusedError)) return error;
  return new NatsUnavailableError(`${error.message}; ${natsRefusalAdvice(error.refusal, nats)}`, { cause: error });
}
