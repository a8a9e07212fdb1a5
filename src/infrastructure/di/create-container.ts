import { Container, ContainerModule } from 'inversify';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import { NoMetrics } from '../../adapters/outbound/metrics/no-metrics';
import { AesValueEncryption } from '../../adapters/outbound/crypto/aes-value-encryption';
import { ValueEncryption } from '../../application/ports/value-encryption.port';
import { ServerSettings } from '../../application/server-settings';
import { TOKENS } from '../../application/tokens';
import type { ServerDuties } from '../lifecycle/boot-sequence';
import { ProtobufActivityEncoder } from '../../adapters/codec/activity-codec';
import { applicationModule } from './modules/application.module';
import { lifecycleModule } from './modules/lifecycle.module';

export interface ContainerOptions {
  readonly settings: ServerSettings;
  readonly logger: Logger;
  /** The adapter modules: production (system, storage, nats, raft, cluster, grpc) or memory ones in tests. */
  readonly adapters: readonly ContainerModule[];
  /** Which start steps apply (the `ServerLifecycle` bound here runs them). */
  readonly duties: ServerDuties;
  readonly metrics?: Metrics;
  /** Encryption at rest; by default without a master key (encrypted streams are refused). */
  readonly encryption?: ValueEncryption;
}

/**
 * The composition root (docs/style.md "Composition root"; docs/architecture.md "Composition"): settings and logger, the application
 * services, the boot sequence, and the adapter modules chosen by the caller. One container per
 * broker; nothing is kept at module level.
 */
export function createContainer(options: ContainerOptions): Container {
  const container = new Container();
  container.bind(TOKENS.ServerSettings).toConstantValue(options.settings);
  container.bind(TOKENS.Logger).toConstantValue(options.logger);
  container.bind(TOKENS.Metrics).toConstantValue(options.metrics ?? new NoMetrics());
  container.bind(TOKENS.ValueEncryption).toConstantValue(options.encryption ?? new AesValueEncryption(null));
  container.bind(TOKENS.ActivityEncoder).toConstantValue(new ProtobufActivityEncoder());
  container.loadSync(applicationModule, lifecycleModule(options.duties), ...options.adapters);
  return container;
}
