import { Container, ContainerModule } from 'inversify';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import { NoMetrics } from '../../adapters/outbound/metrics/no-metrics';
import { AesValueEncryption } from '../../adapters/outbound/crypto/aes-value-encryption';
import { ValueEncryption } from '../../application/ports/value-encryption.port';
import { ServerSettings } from '../../application/server-settings';
import { TOKENS } from '../../application/tokens';
import { applicationModule } from './modules/application.module';

/**
 * The composition root (docs/style.md "Composition root"): settings and logger, the application services, and the
 * adapter modules chosen by the caller (production: system + filesystem + nats; tests swap them).
 * One container per broker; nothing is kept at module level.
 */
export function createContainer(
  settings: ServerSettings,
  logger: Logger,
  adapterModules: readonly ContainerModule[],
  metrics: Metrics = new NoMetrics(),
  /** Encryption at rest; by default without a master key (encrypted streams are refused). */
  encryption: ValueEncryption = new AesValueEncryption(null),
): Container {
  const container = new Container();
  container.bind(TOKENS.ServerSettings).toConstantValue(settings);
  container.bind(TOKENS.Logger).toConstantValue(logger);
  container.bind(TOKENS.Metrics).toConstantValue(metrics);
  container.bind(TOKENS.ValueEncryption).toConstantValue(encryption);
  container.loadSync(applicationModule, ...adapterModules);
  return container;
}
