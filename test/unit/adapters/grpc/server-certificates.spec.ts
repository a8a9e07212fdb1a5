import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ServerCertificates, ServerTlsFiles, TlsFilesError } from '../../../../src/adapters/inbound/grpc/server-certificates';
import { capturingLogger } from '../../../support/capturing-logger';
import { createTestCertificates, TestCertificates } from '../../../support/test-certificates';

let certs: TestCertificates;
let live: { keyFile: string; certFile: string; caFile: string };

beforeAll(() => {
  certs = createTestCertificates();
});

afterAll(() => certs.remove());

beforeEach(() => {
  const dir = fs.mkdtempSync(path.join(certs.dir, 'live-'));
  live = { keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem'), caFile: path.join(dir, 'ca.pem') };
  fs.copyFileSync(certs.server.keyFile, live.keyFile);
  fs.copyFileSync(certs.server.certFile, live.certFile);
  fs.copyFileSync(certs.caFile, live.caFile);
});

const files = (clientAuth: ServerTlsFiles['clientAuth'] = null): ServerTlsFiles => ({ keyFile: live.keyFile, certFile: live.certFile, clientAuth });
const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

async function loadError(f: ServerTlsFiles): Promise<TlsFilesError> {
  try {
    await ServerCertificates.load(f, capturingLogger().logger);
  } catch (e) {
    return e as TlsFilesError;
  }
  throw new Error('loaded');
}

describe('ServerCertificates.load refuses files it cannot serve, naming the key', () => {
  it.each([
    ['an unreadable key', () => fs.rmSync(live.keyFile), 'tls.key', 'Cannot read the file of "tls.key"'],
    ['an unreadable certificate', () => fs.rmSync(live.certFile), 'tls.cert', 'Cannot read the file of "tls.cert"'],
    ['a key that does not match', () => fs.copyFileSync(certs.strayKeyFile, live.keyFile), 'tls.key', 'are not a usable PEM key and certificate pair'],
    ['a certificate that is not PEM', () => fs.writeFileSync(live.certFile, 'hello'), 'tls.cert', 'does not start with a PEM certificate'],
  ])('%s', async (_what, spoil, key, message) => {
    spoil();
    expect(await loadError(files())).toMatchObject({ key, message: expect.stringContaining(message) });
  });

  it('an unusable client CA', async () => {
    fs.writeFileSync(live.caFile, 'not a certificate');
    expect(await loadError(files({ caFile: live.caFile }))).toMatchObject({ key: 'tls.client.auth.ca', message: expect.stringContaining('does not hold a usable PEM certificate') });
  });

  it('a process that allows TLS below 1.2', async () => {
    // What `node --tls-min-v1.1` does (the module object, not the TypeScript namespace, is writable).
    const nodeTls = require('node:tls') as { DEFAULT_MIN_VERSION: string };
    const previous = nodeTls.DEFAULT_MIN_VERSION;
    nodeTls.DEFAULT_MIN_VERSION = 'TLSv1.1';
    try {
      expect(await loadError(files())).toMatchObject({ key: 'tls.key', message: expect.stringContaining('TLS 1.2 or later') });
    } finally {
      nodeTls.DEFAULT_MIN_VERSION = previous;
    }
  });
});

describe('ServerCertificates as grpc-js certificate provider', () => {
  it('hands out the identity and, with client authentication, the CA (Node\'s root CAs when none is configured)', async () => {
    const withCa = await ServerCertificates.load(files({ caFile: live.caFile }), capturingLogger().logger);
    const roots = await ServerCertificates.load(files({}), capturingLogger().logger);
    const identity = jest.fn();
    const ca = jest.fn();
    const rootsCa = jest.fn();
    withCa.addIdentityCertificateListener(identity);
    withCa.addCaCertificateListener(ca);
    roots.addCaCertificateListener(rootsCa);
    expect(identity).not.toHaveBeenCalled(); // later: grpc-js adds its own watcher after the listener
    await nextTick();
    expect(identity).toHaveBeenCalledWith({ certificate: certs.server.cert, privateKey: certs.server.key });
    expect(ca).toHaveBeenCalledWith({ caCertificate: certs.ca });
    expect(rootsCa.mock.calls[0][0].caCertificate.toString()).toBe(tls.rootCertificates.join('\n'));
    expect(withCa.requireClientCertificate).toBe(true);
    expect((await ServerCertificates.load(files(), capturingLogger().logger)).requireClientCertificate).toBe(false);
  });

  it('reload: a new pair reaches the listeners; an unchanged one does not; a bad one never does (no null either)', async () => {
    const { logger, lines } = capturingLogger();
    const certificates = await ServerCertificates.load(files({ caFile: live.caFile }), logger);
    const identity = jest.fn();
    const ca = jest.fn();
    certificates.addIdentityCertificateListener(identity);
    certificates.addCaCertificateListener(ca);
    await nextTick();
    identity.mockClear();
    ca.mockClear();

    expect(await certificates.reload('SIGHUP')).toBe('unchanged');
    fs.copyFileSync(certs.server2.keyFile, live.keyFile);
    fs.copyFileSync(certs.server2.certFile, live.certFile);
    expect(await certificates.reload('SIGHUP')).toBe('reloaded');
    expect(identity).toHaveBeenCalledWith({ certificate: certs.server2.cert, privateKey: certs.server2.key });
    expect(ca).not.toHaveBeenCalled(); // the CA did not change

    identity.mockClear();
    fs.copyFileSync(certs.server.keyFile, live.keyFile); // half-way through a rotation: key and certificate differ
    expect(await certificates.reload('file change')).toBe('kept');
    fs.writeFileSync(live.caFile, 'garbage');
    fs.copyFileSync(certs.server2.keyFile, live.keyFile);
    expect(await certificates.reload('SIGHUP')).toBe('kept');
    expect(identity).not.toHaveBeenCalled();
    expect(ca).not.toHaveBeenCalled();
    expect(lines.filter((l) => l.msg === 'client API TLS certificate not reloaded: the one in force is kept').map((l) => l.obj.key)).toEqual(['tls.key', 'tls.client.auth.ca']);
    certificates.close();
  });
});
