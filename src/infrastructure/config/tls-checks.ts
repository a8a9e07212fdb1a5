/**
 * The rules between the client API's `tls.*` keys (docs/security.md): a combination the server
 * cannot apply as the user means it is refused, naming the key, instead of running with less
 * protection than configured. Used by the configuration loader and again by `Broker.start`, for
 * programs that build a BrokerConfig themselves.
 */
import type { BrokerConfig } from './broker-config';

/** Reports one problem; the first of `keys` is the one the message names. */
export type AddIssue = (message: string, ...keys: string[]) => void;

export function checkTls(tls: BrokerConfig['tls'], add: AddIssue): void {
  if ((tls.key === undefined) !== (tls.cert === undefined)) {
    const [set, missing] = tls.key !== undefined ? ['tls.key', 'tls.cert'] : ['tls.cert', 'tls.key'];
    add(`"${set}" is set but "${missing}" is not: TLS needs both`, set);
  }
  const tlsOn = tls.key !== undefined && tls.cert !== undefined;
  if (tls.clientAuthEnabled && !tlsOn) {
    add('"tls.client.auth.enabled" is true but TLS is off: set "tls.key" and "tls.cert"', 'tls.client.auth.enabled');
  }
  // Liftbridge ignores these without the switch that enables them; a CA or policy that is
  // configured but not applied would look like protection that is not there.
  if (tls.clientAuthCa !== undefined && !tls.clientAuthEnabled) {
    add('"tls.client.auth.ca" is set but "tls.client.auth.enabled" is not: client certificates would not be asked for', 'tls.client.auth.ca');
  }
  if (!tls.clientAuthzEnabled) {
    for (const key of ['tls.client.authz.model', 'tls.client.authz.policy'] as const) {
      const set = key === 'tls.client.authz.model' ? tls.clientAuthzModel : tls.clientAuthzPolicy;
      if (set !== undefined) add(`"${key}" is set but "tls.client.authz.enabled" is not: the policy would not be applied`, key);
    }
    return;
  }
  // docs/reliability.md "Bad inputs" C8: authorization without verified client identities must fail closed.
  if (!tls.clientAuthEnabled) {
    add('"tls.client.authz.enabled" is true but "tls.client.auth.enabled" is not: clients are identified by their certificates', 'tls.client.authz.enabled');
  }
  if (tls.clientAuthzModel === undefined || tls.clientAuthzPolicy === undefined) {
    add('"tls.client.authz.enabled" is true but "tls.client.authz.model" and "tls.client.authz.policy" are not both set', 'tls.client.authz.enabled');
  }
}

/** The same rules as messages, for `Broker.start`. */
export function tlsSettingProblems(tls: BrokerConfig['tls']): string[] {
  const problems: string[] = [];
  checkTls(tls, (message) => problems.push(message));
  return problems;
}
