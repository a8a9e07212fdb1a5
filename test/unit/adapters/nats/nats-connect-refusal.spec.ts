import { ErrorCode, NatsError } from 'nats';
import { refusalOf } from '../../../../src/adapters/outbound/nats/nats-connect-refusal';

const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('refusalOf: connect failures that waiting cannot cure', () => {
  it.each([
    [NatsError.errorForCode(ErrorCode.AuthorizationViolation), 'authentication'],
    [NatsError.errorForCode(ErrorCode.AuthenticationExpired), 'authentication'],
    [NatsError.errorForCode(ErrorCode.BadCreds), 'authentication'],
    [withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'server-certificate'],
    [withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'server-certificate'],
    [withCode('CERT_HAS_EXPIRED'), 'server-certificate'],
    [withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'server-certificate'],
    [withCode('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), 'client-certificate'],
    [withCode('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'client-certificate'],
    [withCode('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), 'client-certificate'],
    [new NatsError('tls', ErrorCode.ServerOptionNotAvailable), 'tls-not-offered'],
    [withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls'],
    [NatsError.errorForCode(ErrorCode.Tls), 'tls'],
  ])('%s → %s', (error, refusal) => {
    expect(refusalOf(error)).toBe(refusal);
  });

  it.each(['CONNECTION_REFUSED', 'TIMEOUT', 'ECONNRESET', 'ENOTFOUND', 'DISCONNECT'])('%s is not a refusal', (code) => {
    expect(refusalOf(withCode(code))).toBeNull();
  });

  it('does not take a server without another option for one without TLS', () => {
    expect(refusalOf(new NatsError('noEcho', ErrorCode.ServerOptionNotAvailable))).toBeNull();
  });
});
