import { ContainerModule } from 'inversify';
import { RaftAckLease } from '../../../application/cluster/ack-lease';
import { TOKENS } from '../../../application/tokens';
import type { InternalNatsConnection } from '../../../adapters/outbound/nats/internal-connection';
import { NatsClusterChannel } from '../../../adapters/outbound/nats/nats-cluster-channel';
import { NatsReplicationTransport } from '../../../adapters/outbound/nats/nats-replication-transport';
import type { InternalTraffic } from '../../lifecycle/internal-traffic';

export interface ClusterLinks {
  /** Carries the control channel beside the Raft messages. */
  readonly raft: InternalNatsConnection;
  /** Partition replication's own connection. */
  readonly replication: InternalNatsConnection;
  /** Drop logs of the internal adapters. */
  readonly internal: InternalTraffic;
}

/** The links to the other servers beside Raft: the control channel, partition replication, and the ack lease over them. */
export const clusterModule = (links: ClusterLinks): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(NatsClusterChannel)
      .toDynamicValue((ctx) => {
        const { namespace } = ctx.get(TOKENS.ServerSettings);
        return new NatsClusterChannel(links.raft, namespace, ctx.get(TOKENS.Logger).child({ component: 'cluster' }), links.internal.drops('cluster'));
      })
      .inSingletonScope();
    bind(TOKENS.ClusterChannel).toService(NatsClusterChannel);
    bind(NatsReplicationTransport)
      .toDynamicValue((ctx) => {
        const { namespace, serverId } = ctx.get(TOKENS.ServerSettings);
        const metrics = ctx.get(TOKENS.Metrics);
        const logger = ctx.get(TOKENS.Logger).child({ component: 'replication' });
        return new NatsReplicationTransport(links.replication, namespace, serverId, logger, links.internal.drops('replication'), () => metrics.replicationPublishFailed());
      })
      .inSingletonScope();
    bind(TOKENS.ReplicationTransport).toService(NatsReplicationTransport);
    bind(TOKENS.AckLease).to(RaftAckLease).inSingletonScope();
  });
