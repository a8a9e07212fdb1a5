import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Logger } from '../../../application/ports/logger.port';

type CertificateProvider = grpc.experimental.CertificateProvider;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

/** The files of the client API's TLS (docs/security.md), by configuration key. */
export interface ServerTlsFiles {
  readonly keyFile: string;
  readonly certFile: string;
  /** Client certificates are required and verified (mTLS); against `caFile`, or Node's root CAs when unset. */
  readonly clientAuth: { readonly caFile?: string } | null;
}

/** A TLS file that cannot be used; `key` is the configuration key that names it. */
export class TlsFilesError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'TlsFilesError';
  }
}

const KEY = 'tls.key';
const CERT = 'tls.cert';
const CA = 'tls.client.auth.ca';
/** PEM files are small; a huge file is a wrong path. */
const FILE_BYTES_MAX = 4 * 1024 * 1024;
/** A change to the files is applied once they have been quiet this long (a key and certificate are rarely written at once). */
const SETTLE_MS = 200;
/** TLS versions below this are refused; Node's default minimum is TLSv1.2 (docs/security.md). */
const WEAK_VERSIONS = new Set(['TLSv1', 'TLSv1.1']);

interface Loaded {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The CA bundle for client certificates; null without client authentication. */
  readonly ca: Buffer | null;
}

export type ReloadOutcome = 'reloaded' | 'unchanged' | 'kept';

/**
 * The client API's key, certificate and client CA, served through grpc-js's certificate-provider
 * credentials so they can change while the server runs: `reload()` (SIGHUP) and a change to the
 * files swap them for new handshakes; open connections keep going. A new set that cannot be used
 * (unreadable, a key that does not match the certificate, a CA without a certificate) is not
 * handed to grpc-js: the one in force stays, and the reason is logged. grpc-js's own
 * FileWatcherCertificateProvider is not used because it passes unreadable files on as "no
 * certificate", after which the server drops every new connection.
 */
export class ServerCertificates implements CertificateProvider {
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private readonly watchers: FSWatcher[] = [];
  private settleTimer: NodeJS.Timeout | null = null;
  private reloading: Promise<ReloadOutcome> = Promise.resolve('unchanged');
  private closed = false;

  private constructor(
    private readonly files: ServerTlsFiles,
    private current: Loaded,
    private readonly logger: Logger,
  ) {}

  /** Reads and checks the files; throws TlsFilesError naming the key of the first that cannot be used. */
  static async load(files: ServerTlsFiles, logger: Logger): Promise<ServerCertificates> {
    if (WEAK_VERSIONS.has(tls.DEFAULT_MIN_VERSION)) {
      throw new TlsFilesError(
        KEY,
        `"${KEY}" and "${CERT}" serve TLS 1.2 or later, but this Node.js process allows ${tls.DEFAULT_MIN_VERSION} (--tls-min-v1.0 or --tls-min-v1.1): remove that option`,
      );
    }
    const certificates = new ServerCertificates(files, await loadFiles(files), logger);
    logger.info(describe(certificates.current, files), 'client API TLS certificate loaded');
    return certificates;
  }

  /** Whether clients must present a certificate the CA verifies. */
  get requireClientCertificate(): boolean {
    return this.files.clientAuth !== null;
  }

  /** grpc-js credentials that follow this provider (requests and verifies client certificates with mTLS). */
  serverCredentials(): grpc.ServerCredentials {
    // grpc-js 1.14 names the parameters (ca, identity) but uses the first as the identity provider.
    return grpc.experimental.createCertificateProviderServerCredentials(this, this.requireClientCertificate ? this : null, this.requireClientCertificate);
  }

  /** Reads the files again (SIGHUP, or a change seen by `watch`); one reload at a time. */
  reload(trigger: string): Promise<ReloadOutcome> {
    this.reloading = this.reloading.then(() => this.reloadNow(trigger));
    return this.reloading;
  }

  /** Reloads when a file changes (its directory is watched, so files replaced by a rename are seen too). */
  watch(): void {
    const files = [this.files.keyFile, this.files.certFile, ...(this.files.clientAuth?.caFile === undefined ? [] : [this.files.clientAuth.caFile])];
    for (const dir of new Set(files.map((f) => path.dirname(path.resolve(f))))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.settleThenReload());
        watcher.on('error', (error) => this.logger.warn({ dir, err: error }, 'cannot watch the TLS files for changes; SIGHUP still reloads them'));
        this.watchers.push(watcher);
      } catch (error) {
        this.logger.warn({ dir, err: error }, 'cannot watch the TLS files for changes; SIGHUP still reloads them');
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    // Later, as grpc-js expects: it registers its own watcher only after adding the listener.
    process.nextTick(() => this.identityListeners.has(listener) && listener(this.identity()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => this.caListeners.has(listener) && listener(this.caUpdate()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  private identity(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.current.cert, privateKey: this.current.key };
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    return this.current.ca === null ? null : { caCertificate: this.current.ca };
  }

  private settleThenReload(): void {
    if (this.closed) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.reload('file change');
    }, SETTLE_MS);
    this.settleTimer.unref();
  }

  private async reloadNow(trigger: string): Promise<ReloadOutcome> {
    let next: Loaded;
    try {
      next = await loadFiles(this.files);
    } catch (error) {
      const key = error instanceof TlsFilesError ? error.key : KEY;
      this.logger.error({ trigger, key, reason: (error as Error).message }, 'client API TLS certificate not reloaded: the one in force is kept');
      return 'kept';
    }
    if (this.closed) return 'unchanged';
    const previous = this.current;
    if (next.key.equals(previous.key) && next.cert.equals(previous.cert) && sameBuffer(next.ca, previous.ca)) return 'unchanged';
    this.current = next;
    if (!next.key.equals(previous.key) || !next.cert.equals(previous.cert)) for (const listener of this.identityListeners) listener(this.identity());
    if (!sameBuffer(next.ca, previous.ca)) for (const listener of this.caListeners) listener(this.caUpdate());
    this.logger.info({ trigger, ...describe(next, this.files) }, 'client API TLS certificate reloaded; open connections keep the previous one');
    return 'reloaded';
  }
}

const sameBuffer = (a: Buffer | null, b: Buffer | null): boolean => (a === null || b === null ? a === b : a.equals(b));

async function loadFiles(files: ServerTlsFiles): Promise<Loaded> {
  const caFile = files.clientAuth?.caFile;
  const [key, cert, caFromFile] = await Promise.all([
    readPem(KEY, files.keyFile),
    readPem(CERT, files.certFile),
    caFile === undefined ? null : readPem(CA, caFile),
  ]);
  try {
    new X509Certificate(cert);
  } catch (error) {
    throw new TlsFilesError(CERT, `The file of "${CERT}" does not start with a PEM certificate: ${JSON.stringify(files.certFile)} (${(error as Error).message})`);
  }
  try {
    tls.createSecureContext({ key, cert });
  } catch (error) {
    throw new TlsFilesError(
      KEY,
      `The files of "${KEY}" and "${CERT}" are not a usable PEM key and certificate pair: ${JSON.stringify(files.keyFile)}, ${JSON.stringify(files.certFile)} (${(error as Error).message})`,
    );
  }
  if (caFromFile !== null) {
    try {
      new X509Certificate(caFromFile);
      tls.createSecureContext({ ca: caFromFile });
    } catch (error) {
      throw new TlsFilesError(CA, `The file of "${CA}" does not hold a usable PEM certificate: ${JSON.stringify(caFile)} (${(error as Error).message})`);
    }
  }
  const ca = files.clientAuth === null ? null : (caFromFile ?? Buffer.from(tls.rootCertificates.join('\n')));
  return { key, cert, ca };
}

async function readPem(key: string, file: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TlsFilesError(key, `Cannot read the file of "${key}": ${JSON.stringify(file)} (${reason})`);
  }
  if (data.length > FILE_BYTES_MAX) throw new TlsFilesError(key, `The file of "${key}" is too large: ${JSON.stringify(file)}`);
  return data;
}

/** What the logs say about a certificate: whom it names, until when, and its fingerprint. */
function describe(loaded: Loaded, files: ServerTlsFiles): Record<string, unknown> {
  const cert = new X509Certificate(loaded.cert);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
    clientCertificates: files.clientAuth === null ? 'not requested' : files.clientAuth.caFile === undefined ? 'required, Node root CAs' : 'required, tls.client.auth.ca',
  };
}
