import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Paths of PEM files made for one test file (removed by `remove()`). */
export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed `server` and `client`. */
  readonly ca: string;
  /** For `localhost` and 127.0.0.1, signed by `ca`. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate (CN `liftbridge`) signed by `ca`. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Another CA, and a client certificate it signed: trusted by nobody here. */
  readonly otherCa: string;
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  remove(): void;
}

/**
 * Makes a CA, a server and a client certificate with the `openssl` command (Debian `openssl`;
 * Node's crypto cannot issue certificates), valid for two days, P-256 keys.
 */
export function makeTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-certs-'));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, cn: string): void =>
    openssl('req', '-x509', ...newKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name: string, cn: string, issuer: string, extensions: string): void => {
    openssl('req', ...newKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`);
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${issuer}.crt`), '-CAkey', file(`${issuer}.key`), '-CAcreateserial',
      '-out', file(`${name}.crt`), '-days', '2', '-extfile', file(`${name}.ext`));
  };
  ca('ca', 'liftbridge-ts test CA');
  ca('other-ca', 'another CA');
  leaf('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'liftbridge', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('other-client', 'liftbridge', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    otherCa: file('other-ca.crt'),
    otherClientCert: file('other-client.crt'),
    otherClientKey: file('other-client.key'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
