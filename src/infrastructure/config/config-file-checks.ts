/**
 * Start-up checks of the files a configuration points at (docs/reliability.md "Bad inputs", C7): every file must
 * be readable, a TLS key must match its certificate, and CA bundles must hold a certificate, so
 * that a bad file stops the broker at start rather than at the first connection.
 */
import { X509Certificate } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { AuthorizationPolicyError, CasbinClientAuthorizer } from '../../adapters/outbound/casbin/casbin-client-authorizer';
import type { Logger } from '../../application/ports/logger.port';
import type { BrokerConfig } from './broker-config';
import { natsCredentialsFileIssue } from '../nats/nats-security-settings';
import { ClusterSecretError, readClusterSecret } from './cluster-secret';
import type { ConfigIssue } from './config-settings';

/** PEM files, policies and nats-server configs are small; a huge file is a wrong path. */
const REFERENCED_FILE_MAX_BYTES = 4 * 1024 * 1024;

type Loaded = { readonly ok: true; readonly data: Buffer } | { readonly ok: false };

export async function checkConfiguredFiles(config: BrokerConfig): Promise<readonly ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const load = async (key: string, path: string | undefined): Promise<Loaded | undefined> => {
    if (path === undefined) return undefined;
    try {
      const data = await readFile(path);
      if (data.length > REFERENCED_FILE_MAX_BYTES) {
        issues.push({ key, message: `The file of ${JSON.stringify(key)} is too large: ${JSON.stringify(path)}` });
        return { ok: false };
      }
      return { ok: true, data };
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      issues.push({ key, message: `Cannot read the file of ${JSON.stringify(key)}: ${JSON.stringify(path)} (${reason})` });
      return { ok: false };
    }
  };

  const { tls, nats } = config;
  const [key, cert, clientCa, model, policy] = await Promise.all([
    load('tls.key', tls.key),
    load('tls.cert', tls.cert),
    load('tls.client.auth.ca', tls.clientAuthCa),
    load('tls.client.authz.model', tls.clientAuthzModel),
    load('tls.client.authz.policy', tls.clientAuthzPolicy),
  ]);
  checkKeyPair(issues, 'tls.key', 'tls.cert', key, cert);
  checkCa(issues, 'tls.client.auth.ca', clientCa);
  if (model?.ok && policy?.ok) await checkAuthorization(issues, tls.clientAuthzModel!, tls.clientAuthzPolicy!);

  const [natsKey, natsCert, natsCa] = await Promise.all([
    load('nats.tls.key', nats.tlsKey),
    load('nats.tls.cert', nats.tlsCert),
    load('nats.tls.ca', nats.tlsCa),
    nats.embedded ? load('nats.embedded.config', nats.embeddedConfig) : undefined,
  ]);
  checkKeyPair(issues, 'nats.tls.key', 'nats.tls.cert', natsKey, natsCert);
  checkCa(issues, 'nats.tls.ca', natsCa);
  const credentials = await natsCredentialsFileIssue(nats);
  if (credentials !== null) issues.push({ key: 'nats.credentials', message: credentials });

  if (config.clustering.authSecretFile !== undefined) {
    try {
      await readClusterSecret(config.clustering);
    } catch (e) {
      if (!(e instanceof ClusterSecretError)) throw e;
      issues.push({ key: e.key, message: e.message });
    }
  }

  if (nats.embedded && nats.embeddedBinary !== undefined) {
    try {
      await access(nats.embeddedBinary, constants.X_OK);
    } catch {
      issues.push({
        key: 'nats.embedded.binary',
        message: `The nats-server binary of "nats.embedded.binary" is not an executable file: ${JSON.stringify(nats.embeddedBinary)}`,
      });
    }
  }
  return issues;
}

function checkKeyPair(
  issues: ConfigIssue[],
  keyName: string,
  certName: string,
  key: Loaded | undefined,
  cert: Loaded | undefined,
): void {
  if (!key?.ok || !cert?.ok) return;
  try {
    createSecureContext({ key: key.data, cert: cert.data });
  } catch (e) {
    issues.push({
      key: keyName,
      message: `The files of ${JSON.stringify(keyName)} and ${JSON.stringify(certName)} are not a usable PEM key and certificate pair (${(e as Error).message})`,
    });
  }
}

/** The model and policy as the server will load them (docs/security.md). */
async function checkAuthorization(issues: ConfigIssue[], modelFile: string, policyFile: string): Promise<void> {
  try {
    await CasbinClientAuthorizer.load({ modelFile, policyFile, modelKey: 'tls.client.authz.model', policyKey: 'tls.client.authz.policy' }, SILENT);
  } catch (e) {
    if (!(e instanceof AuthorizationPolicyError)) throw e;
    issues.push({ key: e.key, message: e.message });
  }
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => SILENT };

function checkCa(issues: ConfigIssue[], name: string, ca: Loaded | undefined): void {
  if (!ca?.ok) return;
  try {
    new X509Certificate(ca.data);
  } catch (e) {
    issues.push({ key: name, message: `The file of ${JSON.stringify(name)} does not start with a PEM certificate (${(e as Error).message})` });
  }
}
