import * as path from 'node:path';
import { NatsConnection } from 'nats';
import { Logger } from '../../application/ports/logger.port';
import { Metrics } from '../../application/ports/metrics.port';
import type { InternalNatsConnection } from '../../adapters/outbound/nats/internal-connection';
import { NatsRaftTransport } from '../../adapters/outbound/nats/nats-raft-transport';
import { NatsSeedConflictDetector } from '../../adapters/outbound/nats/nats-seed-conflict-detector';
import { BrokerConfig } from '../config/broker-config';
import { raftLogger } from '../logging/optional-log-lines';
import { InternalTraffic } from './internal-traffic';
import { planRaftBootstrap, RaftBootstrapPlan } from './raft-bootstrap';

/** What the container is built from, opened beforehand because opening it is asynchronous. */
export interface OpenedCluster {
  readonly raftDir: string;
  readonly plan: RaftBootstrapPlan;
  /** Subscribed and ready: messages sent to this server from now on are received. */
  readonly raftTransport: NatsRaftTransport;
  /** The raft component's logger (`logging.raft` raises its lines). */
  readonly raftLogger: Logger;
  readonly raftConnection: InternalNatsConnection;
  readonly replicationConnection: InternalNatsConnection;
}

/**
 * The cluster's side of the start that must be awaited before the container is built
 * (docs/cluster.md "Start-up"): the Raft connection and, on a bootstrap seed, the announcements
 * that detect another seed; the bootstrap plan read from the data directory; the Raft transport
 * subscribed; the replication connection. It stops and closes what it opened, also after a
 * failed open.
 */
export class ClusterResources {
  private seedDetector: NatsSeedConflictDetector | null = null;
  private raftTransport: NatsRaftTransport | null = null;

  constructor(
    private readonly config: BrokerConfig,
    private readonly serverId: string,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    /** Another server announcing itself as a bootstrap seed in our namespace (its id), or null once it is gone. */
    private readonly onSeedConflict: (otherSeed: string | null) => void,
  ) {}

  async open(internal: InternalTraffic, openNats: (name: string) => Promise<NatsConnection>): Promise<OpenedCluster> {
    const clustering = this.config.clustering;
    const raftConnection = internal.connection(await openNats('raft'), 'raft');
    if (clustering.raftBootstrapSeed) {
      const onChange = (other: string | null): void => {
        this.onSeedConflict(other);
        this.metrics.seedConflict(other !== null);
      };
      const logger = this.logger.child({ component: 'bootstrap' });
      this.seedDetector = new NatsSeedConflictDetector(raftConnection, clustering.namespace, this.serverId, logger, internal.drops('bootstrap'), onChange);
      await this.seedDetector.start();
    }
    const raftDir = path.join(this.config.dataDir, 'raft');
    const plan = await planRaftBootstrap(raftDir, this.serverId, { seed: clustering.raftBootstrapSeed, peers: clustering.raftBootstrapPeers });
    this.logger.info({ mode: plan.mode, voters: plan.voters }, 'metadata raft group');
    const logger = raftLogger(this.logger.child({ component: 'raft' }), this.config.logging.raft);
    const raftTransport = new NatsRaftTransport(raftConnection, clustering.namespace, this.serverId, logger, internal.drops('raft'));
    this.raftTransport = raftTransport;
    await raftTransport.ready();
    const replicationConnection = internal.connection(await openNats('replication'), 'replication');
    return { raftDir, plan, raftTransport, raftLogger: logger, raftConnection, replicationConnection };
  }

  /** First thing at stop: no more seed announcements. */
  stopAnnouncing(): void {
    this.seedDetector?.stop();
  }

  /** After the adapters over it closed. */
  async closeTransport(): Promise<void> {
    await this.raftTransport?.close();
  }
}
