import { ContainerModule } from 'inversify';
import { ActivityDispatcher } from '../../../application/activity/activity-dispatcher';
import { BrokerLiveness } from '../../../application/cluster/broker-liveness';
import { ClusterMembership } from '../../../application/cluster/cluster-membership';
import { ControlledShutdown } from '../../../application/cluster/controlled-shutdown';
import { ControllerRole } from '../../../application/cluster/controller-role';
import { MetadataGateway } from '../../../application/cluster/metadata-gateway';
import { GroupLivenessTimers } from '../../../application/groups/group-liveness-timers';
import { MetadataService } from '../../../application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../application/partitions/partition-supervisor';
import { TOKENS } from '../../../application/tokens';
import { ServerDuties, ServerLifecycle } from '../../lifecycle/boot-sequence';

/** The boot and stop sequence over the services this server's duties include (the others are never resolved). */
export const lifecycleModule = (duties: ServerDuties): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(ServerLifecycle)
      .toDynamicValue(
        (ctx) =>
          new ServerLifecycle(
            {
              settings: ctx.get(TOKENS.ServerSettings),
              metadata: ctx.get(MetadataService),
              metadataLog: ctx.get(TOKENS.MetadataLog),
              gateway: ctx.get(MetadataGateway),
              groupTimers: ctx.get(GroupLivenessTimers),
              partitions: duties.partitions ? ctx.get(PartitionSupervisor) : null,
              cluster:
                duties.raftGroup === 'none'
                  ? null
                  : {
                      group: ctx.get(TOKENS.MetadataRaftGroup),
                      role: ctx.get(ControllerRole),
                      membership: ctx.get(ClusterMembership),
                      liveness: ctx.get(BrokerLiveness),
                      shutdown: ctx.get(ControlledShutdown),
                      activity: ctx.get(ActivityDispatcher),
                      joins: duties.raftGroup === 'join',
                    },
            },
            ctx.get(TOKENS.Logger),
          ),
      )
      .inSingletonScope();
  });
