import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The Debian `openssl` CLI: the tests make their certificates with it, at test time. */
const OPENSSL = fs.existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

/** A PEM key and certificate on disk, and their contents. */
export interface CertificateFiles {
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** Certificates for one test file, in a temp directory removed by `remove()`. */
export interface TestCertificates {
  readonly dir: string;
  /** The test CA's certificate (PEM file and contents). */
  readonly caFile: string;
  readonly ca: Buffer;
  /** A second, unrelated CA: what it signs is not trusted by the servers under test. */
  readonly otherCaFile: string;
  readonly otherCa: Buffer;
  /** Server certificate for localhost and 127.0.0.1, signed by the CA. */
  readonly server: CertificateFiles;
  /** Another server certificate (same names, new key), to check that a reload took effect. */
  readonly server2: CertificateFiles;
  /** Client certificates signed by the CA, with Common Names `client1` and `client2`. */
  readonly client1: CertificateFiles;
  readonly client2: CertificateFiles;
  /** A client certificate with Common Name `client1` signed by the other CA. */
  readonly foreignClient: CertificateFiles;
  /** A client certificate signed by the CA whose validity ended before it began (expired). */
  readonly expiredClient: CertificateFiles;
  /** A private key that belongs to no certificate here (pair it with `server.certFile` to mismatch). */
  readonly strayKeyFile: string;
  /** Makes another certificate signed by the CA (`names`: SANs such as `DNS:localhost`). */
  issue(name: string, commonName: string, options?: { readonly names?: readonly string[]; readonly usage?: 'server' | 'client' }): CertificateFiles;
  remove(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function selfSignedCa(dir: string, name: string, commonName: string): void {
  openssl(['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${commonName}`], dir);
}

function signed(
  dir: string,
  ca: string,
  name: string,
  commonName: string,
  options: { readonly names?: readonly string[]; readonly usage?: 'server' | 'client'; readonly days?: number } = {},
): CertificateFiles {
  openssl(['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`], dir);
  const extensions = ['basicConstraints=critical,CA:FALSE', `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`];
  if (options.names && options.names.length > 0) extensions.push(`subjectAltName=${options.names.join(',')}`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions.join('\n') + '\n');
  // -days -1: notAfter before notBefore, a certificate that is already expired.
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', String(options.days ?? 2), '-extfile', `${name}.ext`],
    dir,
  );
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  return { keyFile, certFile, key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}

const SERVER_NAMES = ['DNS:localhost', 'IP:127.0.0.1'];

/** Generates the certificates of one test file (a few milliseconds with EC keys). */
export function createTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-certs-'));
  selfSignedCa(dir, 'ca', 'liftbridge-ts test CA');
  selfSignedCa(dir, 'other-ca', 'another CA');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'stray.key'], dir);
  const issue = (name: string, commonName: string, options: { readonly names?: readonly string[]; readonly usage?: 'server' | 'client' } = {}): CertificateFiles =>
    signed(dir, 'ca', name, commonName, options);
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    ca: fs.readFileSync(path.join(dir, 'ca.pem')),
    otherCaFile: path.join(dir, 'other-ca.pem'),
    otherCa: fs.readFileSync(path.join(dir, 'other-ca.pem')),
    server: issue('server', 'localhost', { names: SERVER_NAMES, usage: 'server' }),
    server2: issue('server2', 'localhost', { names: SERVER_NAMES, usage: 'server' }),
    client1: issue('client1', 'client1'),
    client2: issue('client2', 'client2'),
    foreignClient: signed(dir, 'other-ca', 'foreign-client', 'client1'),
    expiredClient: signed(dir, 'ca', 'expired-client', 'client1', { days: -1 }),
    strayKeyFile: path.join(dir, 'stray.key'),
    issue,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
