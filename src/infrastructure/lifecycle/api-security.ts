import { ServerCertificates, TlsFilesError } from '../../adapters/inbound/grpc/server-certificates';
import { AuthorizationPolicyError, CasbinClientAuthorizer } from '../../adapters/outbound/casbin/casbin-client-authorizer';
import type { Logger } from '../../application/ports/logger.port';
import type { BrokerConfig } from '../config/broker-config';
import { tlsSettingProblems } from '../config/tls-checks';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The client API's security as configured (docs/security.md): TLS certificates (reloadable),
 * client certificates, and authorization. Opened before anything else starts, so that a file that
 * cannot be used stops the server with a message naming its key.
 */
export class ApiSecurity {
  private constructor(
    /** Null: the API is plaintext. */
    readonly certificates: ServerCertificates | null,
    /** Null: authorization is off. */
    readonly authorizer: CasbinClientAuthorizer | null,
    private readonly logger: Logger,
  ) {}

  static async open(config: BrokerConfig, logger: Logger): Promise<ApiSecurity> {
    const tls = config.tls;
    const problems = tlsSettingProblems(tls);
    if (problems.length > 0) throw new Error(`configuration refused: ${problems.join('; ')}`);
    if (tls.key === undefined || tls.cert === undefined) {
      if (!LOOPBACK_HOSTS.has(config.listen.host)) {
        logger.warn({ listen: config.listen.host }, 'the client API is served in plaintext without client authentication on a non-loopback address: set "tls.key" and "tls.cert" (docs/security.md)');
      }
      return new ApiSecurity(null, null, logger);
    }
    let certificates: ServerCertificates | null = null;
    try {
      certificates = await ServerCertificates.load(
        {
          keyFile: tls.key,
          certFile: tls.cert,
          clientAuth: tls.clientAuthEnabled ? (tls.clientAuthCa === undefined ? {} : { caFile: tls.clientAuthCa }) : null,
        },
        logger.child({ component: 'tls' }),
      );
      // The checks above guarantee client certificates, a model and a policy when this is on.
      const authorizer =
        tls.clientAuthzEnabled && tls.clientAuthzModel !== undefined && tls.clientAuthzPolicy !== undefined
          ? await CasbinClientAuthorizer.load(
              { modelFile: tls.clientAuthzModel, policyFile: tls.clientAuthzPolicy, modelKey: 'tls.client.authz.model', policyKey: 'tls.client.authz.policy' },
              logger.child({ component: 'authz' }),
            )
          : null;
      certificates.watch();
      return new ApiSecurity(certificates, authorizer, logger);
    } catch (error) {
      certificates?.close();
      if (error instanceof TlsFilesError || error instanceof AuthorizationPolicyError) throw new Error(`configuration refused: ${error.message}`);
      throw error;
    }
  }

  /**
   * SIGHUP: reads the certificates and the authorization policy again. What cannot be used is
   * logged and the one in force kept; without TLS or authorization there is nothing to do.
   */
  async reload(): Promise<void> {
    if (this.certificates === null && this.authorizer === null) {
      this.logger.info({}, 'SIGHUP: nothing to reload (no TLS, no authorization configured)');
      return;
    }
    await Promise.all([this.certificates?.reload('SIGHUP'), this.authorizer?.reload()]);
  }

  close(): void {
    this.certificates?.close();
  }
}
