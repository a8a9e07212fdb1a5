import { NatsConnection } from 'nats';
import { NatsUnavailableError } from '../../application/errors/broker-errors';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import { openNatsConnection } from '../../adapters/outbound/nats/nats-connection-factory';
import { BrokerConfig } from '../config/broker-config';
import { EmbeddedNatsServer } from '../nats/embedded-nats-server';
import { namingNatsSettings, natsSecuritySettings } from '../nats/nats-security-settings';

type StopStep = (name: string, run: () => Promise<void>) => Promise<void>;

/**
 * The broker's NATS side: the embedded nats-server when configured, and the named connections,
 * each retried while NATS is unreachable (docs/operability.md) until `signal` aborts the start.
 * Tracks whether every connection is up, and why NATS is not reached yet, for readiness.
 */
export class NatsConnections {
  private embedded: EmbeddedNatsServer | null = null;
  private servers: readonly string[] = [];
  private readonly opened: NatsConnection[] = [];
  private readonly up = new Map<string, boolean>();
  /** Why the last attempt to reach NATS at start-up failed; null once reached (readiness reason). */
  private unreachableReason: string | null = null;

  constructor(
    private readonly config: BrokerConfig,
    private readonly serverId: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Starts the embedded nats-server if asked; the connections go to it when no servers are configured. */
  async start(): Promise<void> {
    const config = this.config;
    let servers = config.nats.servers;
    if (config.nats.embedded) {
      this.embedded = new EmbeddedNatsServer(
        {
          ...(config.nats.embeddedBinary ? { binary: config.nats.embeddedBinary } : {}),
          ...(config.nats.embeddedConfig ? { configFile: config.nats.embeddedConfig } : {}),
          host: '127.0.0.1',
          port: config.nats.embeddedPort,
          readyTimeoutMs: 10_000,
          logOutput: config.logging.nats,
        },
        this.logger.child({ component: 'embedded-nats' }),
      );
      await this.embedded.start();
      if (servers.length === 0) servers = [this.embedded.url];
    }
    this.servers = servers;
    this.logger.info({ servers }, 'NATS servers');
  }

  /** Opens the connection called `name` (the first one also checks the client certificate, with TLS). */
  async open(name: string): Promise<NatsConnection> {
    const config = this.config;
    const settings = {
      servers: this.servers,
      namespace: config.clustering.namespace,
      serverId: this.serverId,
      pingIntervalMs: config.nats.pingIntervalMs,
      pingMaxOutstanding: config.nats.pingMaxOutstanding,
      ...natsSecuritySettings(config.nats),
    };
    const onConnected = (connected: boolean): void => {
      this.up.set(name, connected);
      this.metrics.natsConnection(name, connected);
    };
    const retry = {
      timeoutMs: config.nats.connectTimeoutMs,
      signal: this.signal,
      onUnreachable: (reason: string | null) => (this.unreachableReason = reason),
      checkClientCertificate: this.opened.length === 0,
    };
    const nc = await openNatsConnection(settings, name, this.logger, onConnected, retry).catch((e: unknown) => {
      throw namingNatsSettings(e, config.nats);
    });
    // Stopped while this connection was being opened: the stop may already have closed the others.
    if (this.signal.aborted) {
      await nc.close();
      throw new NatsUnavailableError(`stopped while connecting to NATS (${name})`);
    }
    this.opened.push(nc);
    return nc;
  }

  /** Every connection opened so far is connected (false before the first). */
  get allUp(): boolean {
    return this.up.size > 0 && [...this.up.values()].every(Boolean);
  }

  get unreachable(): string | null {
    return this.unreachableReason;
  }

  /** Drains every connection, then stops the embedded server. */
  async close(step: StopStep): Promise<void> {
    for (const nc of this.opened.splice(0)) await step('nats', () => nc.drain().catch(() => nc.close()));
    const embedded = this.embedded;
    if (embedded) await step('embedded-nats', () => embedded.stop());
  }
}
