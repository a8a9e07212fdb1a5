import type { BrokerConfig } from '../../src/infrastructure/config/broker-config';
import { ApiClient, connectClient } from './api-calls';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from './test-broker';

/**
 * Servers of one namespace running in this process on one nats-server, each with a gRPC client:
 * the first id bootstraps the metadata group, the others join. A stopped server keeps its data
 * directory and restarts on it.
 */
export class InProcessCluster {
  private readonly servers = new Map<string, StartedTestBroker>();
  private readonly clients = new Map<string, ApiClient>();
  private readonly stopped = new Set<string>();

  constructor(
    private readonly natsUrl: string,
    readonly ids: readonly string[],
    readonly namespace: string,
    private readonly replicaMaxLagTimeMs = 2000,
    /** `clustering.auth.secret` of every server (docs/cluster.md); none by default. */
    private readonly authSecret?: string,
    /** Where server `id` keeps its data the first time it starts (a fresh temporary directory by default). */
    private readonly dataDirFor?: (id: string) => string,
    /** NATS settings of every server beyond the URL (credentials, TLS). */
    private readonly nats: Partial<BrokerConfig['nats']> = {},
  ) {}

  /** Starts (or restarts, on its data directory) server `id`. */
  async start(id: string): Promise<void> {
    const previous = this.servers.get(id);
    const dataDir = previous?.config.dataDir ?? this.dataDirFor?.(id);
    const config = testBrokerConfig(this.natsUrl, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      nats: this.nats,
      clustering: {
        serverId: id,
        namespace: this.namespace,
        raftBootstrapSeed: id === this.ids[0],
        replicaMaxLagTimeMs: this.replicaMaxLagTimeMs,
        ...(this.authSecret !== undefined ? { authSecret: this.authSecret } : {}),
      },
    });
    const server = await startTestBroker(config);
    this.servers.set(id, server);
    this.stopped.delete(id);
    this.clients.get(id)?.close();
    this.clients.set(id, connectClient(server.address));
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  /** Stops server `id`, keeping its data. */
  async stop(id: string): Promise<void> {
    this.stopped.add(id);
    await this.servers.get(id)!.stop();
  }

  /** The running (or last started) server `id`: its broker, configuration and captured logs. */
  server(id: string): StartedTestBroker {
    return this.servers.get(id)!;
  }

  client(id: string): ApiClient {
    return this.clients.get(id)!;
  }

  isStopped(id: string): boolean {
    return this.stopped.has(id);
  }

  /** Ids of the servers not stopped. */
  live(): string[] {
    return this.ids.filter((id) => !this.stopped.has(id));
  }

  /** Closes the clients, stops every server and removes the data directories. */
  async destroy(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    for (const s of this.servers.values()) await s.destroy();
  }
}
