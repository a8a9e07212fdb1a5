import { natsConnectionOptions, NatsConnectionSettings, NATS_TLS_MIN_VERSION } from '../../../../src/adapters/outbound/nats/nats-connection-factory';
import { silentLogger } from '../../../support/memory-broker';

const base: NatsConnectionSettings = { servers: ['nats://127.0.0.1:4222'], namespace: 'ns', serverId: 'a' };
const options = (extra: Partial<NatsConnectionSettings>) => natsConnectionOptions({ ...base, ...extra }, 'raft', silentLogger);

describe('the nats.js options of a server connection', () => {
  it('carries no credentials and no TLS when none are configured, and keeps request replies inside the namespace', () => {
    const o = options({});
    expect(o.name).toBe('LIFT.ns.a.raft');
    expect(o.inboxPrefix).toBe('ns._INBOX');
    expect(o.user).toBeUndefined();
    expect(o.pass).toBeUndefined();
    expect(o.authenticator).toBeUndefined();
    expect(o.tls).toBeUndefined();
  });

  it('carries the user and password', () => {
    expect(options({ user: 'lb', password: 'pw' })).toMatchObject({ user: 'lb', pass: 'pw' });
  });

  it('uses TLS 1.2 or later with a client certificate, a CA, or both', () => {
    expect(NATS_TLS_MIN_VERSION).toBe('TLSv1.2');
    expect(options({ tls: { certFile: 'c.pem', keyFile: 'k.pem' } }).tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem', minVersion: 'TLSv1.2' });
    expect(options({ tls: { caFile: 'ca.pem' } }).tls).toEqual({ caFile: 'ca.pem', minVersion: 'TLSv1.2' });
    expect(options({ tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' } }).tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem', minVersion: 'TLSv1.2' });
  });

  it('authenticates with the credentials file through an authenticator', () => {
    expect(typeof options({ credentialsFile: '/nowhere.creds' }).authenticator).toBe('function');
  });
});
