import { createTestCertificates } from './test-certificates';

/** The certificate files the NATS security tests use, named for nats-server and the broker's client side. */
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

/** `createTestCertificates` (one openssl-made set per test file) seen as the NATS tests need it. */
export function makeTestCertificates(): TestCertificates {
  const certs = createTestCertificates();
  const client = certs.issue('liftbridge-client', 'liftbridge', { usage: 'client' });
  return {
    dir: certs.dir,
    ca: certs.caFile,
    serverCert: certs.server.certFile,
    serverKey: certs.server.keyFile,
    clientCert: client.certFile,
    clientKey: client.keyFile,
    otherCa: certs.otherCaFile,
    otherClientCert: certs.foreignClient.certFile,
    otherClientKey: certs.foreignClient.keyFile,
    remove: () => certs.remove(),
  };
}
