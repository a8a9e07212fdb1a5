import { NatsRefusal, NatsRefusedError } from '../../../../src/adapters/outbound/nats/nats-connect-refusal';
import { BrokerConfig, defaultBrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { namingNatsSettings, natsRefusalAdvice, natsSecuritySettings } from '../../../../src/infrastructure/nats/nats-security-settings';

const nats = (extra: Partial<BrokerConfig['nats']>): BrokerConfig['nats'] => ({ ...defaultBrokerConfig().nats, ...extra });

describe('the security settings of every NATS connection', () => {
  it('passes user, password, credentials file and TLS files as configured', () => {
    expect(natsSecuritySettings(nats({}))).toEqual({});
    expect(natsSecuritySettings(nats({ user: 'u', password: 'p' }))).toEqual({ user: 'u', password: 'p' });
    expect(natsSecuritySettings(nats({ credentials: 'a.creds' }))).toEqual({ credentialsFile: 'a.creds' });
    expect(natsSecuritySettings(nats({ tlsCa: 'ca.pem' }))).toEqual({ tls: { caFile: 'ca.pem' } });
    expect(natsSecuritySettings(nats({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsCa: 'ca.pem' }))).toEqual({ tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' } });
  });
});

describe('what to fix when NATS refuses us, by setting name', () => {
  const cases: [NatsRefusal, Partial<BrokerConfig['nats']>, string][] = [
    ['authentication', {}, 'the NATS server requires authentication: set "nats.user" and "nats.password", or "nats.credentials"'],
    ['authentication', { user: 'lb', password: 'x' }, 'NATS refused the user and password of "nats.user" and "nats.password" (user "lb")'],
    ['authentication', { credentials: 'a.creds' }, 'NATS refused the credentials of "nats.credentials" ("a.creds")'],
    ['server-certificate', {}, 'set "nats.tls.ca" to the CA that signed it'],
    ['server-certificate', { tlsCa: 'ca.pem' }, 'not accepted with the CA of "nats.tls.ca" ("ca.pem")'],
    ['client-certificate', {}, 'the NATS server requires a client certificate: set "nats.tls.cert" and "nats.tls.key"'],
    ['client-certificate', { tlsCert: 'c.pem', tlsKey: 'k.pem' }, 'the NATS server refused the client certificate of "nats.tls.cert" ("c.pem")'],
    ['tls-not-offered', { tlsCert: 'c.pem', tlsKey: 'k.pem' }, '"nats.tls.cert", "nats.tls.key" ask for TLS, but the NATS server does not offer it'],
    ['tls', {}, 'check "nats.tls.cert", "nats.tls.key", "nats.tls.ca"'],
  ];
  it.each(cases)('%s with %j', (refusal, settings, advice) => {
    expect(natsRefusalAdvice(refusal, nats(settings))).toContain(advice);
  });

  it('adds the advice to a refusal and leaves other errors alone', () => {
    const named = namingNatsSettings(new NatsRefusedError('cannot connect to NATS (streams): AUTHORIZATION_VIOLATION', 'authentication', null), nats({ user: 'lb' }));
    expect((named as Error).message).toBe('cannot connect to NATS (streams): AUTHORIZATION_VIOLATION; NATS refused the user and password of "nats.user" and "nats.password" (user "lb")');
    const other = new Error('other');
    expect(namingNatsSettings(other, nats({}))).toBe(other);
  });
});
