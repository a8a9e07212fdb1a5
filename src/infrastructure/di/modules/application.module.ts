import { ContainerModule } from 'inversify';
import { ActivityDispatcher } from '../../../application/activity/activity-dispatcher';
import { protobufCursorRecords } from '../../../adapters/codec/cursor-record-codec';
import { InternalStreams } from '../../../application/cluster/internal-streams';
import { CursorService } from '../../../application/cursors/cursor-service';
import { TOKENS } from '../../../application/tokens';
import { BrokerLiveness } from '../../../application/cluster/broker-liveness';
import { ClusterMembership } from '../../../application/cluster/cluster-membership';
import { ControlledShutdown } from '../../../application/cluster/controlled-shutdown';
import { ControllerRole } from '../../../application/cluster/controller-role';
import { MetadataGateway } from '../../../application/cluster/metadata-gateway';
import { PartitionFailover } from '../../../application/cluster/partition-failover';
import { MetadataService } from '../../../application/metadata/metadata-service';
import { PartitionSupervisor } from '../../../application/partitions/partition-supervisor';
import { FetchMetadataQuery } from '../../../application/use-cases/fetch-metadata';
import { PublishHandler } from '../../../application/use-cases/publish';
import { StreamAdminHandler } from '../../../application/use-cases/stream-admin';
import { SubscribeHandler } from '../../../application/use-cases/subscribe';

/** The application services: one instance of each per broker (per container). */
export const applicationModule = new ContainerModule(({ bind }) => {
  bind(MetadataService).toSelf().inSingletonScope();
  bind(MetadataGateway).toSelf().inSingletonScope();
  bind(BrokerLiveness).toSelf().inSingletonScope();
  bind(ControllerRole).toSelf().inSingletonScope();
  bind(PartitionFailover).toSelf().inSingletonScope();
  bind(ClusterMembership).toSelf().inSingletonScope();
  bind(ControlledShutdown).toSelf().inSingletonScope();
  bind(PartitionSupervisor).toSelf().inSingletonScope();
  bind(StreamAdminHandler).toSelf().inSingletonScope();
  bind(PublishHandler).toSelf().inSingletonScope();
  bind(SubscribeHandler).toSelf().inSingletonScope();
  bind(FetchMetadataQuery).toSelf().inSingletonScope();
  bind(ActivityDispatcher).toSelf().inSingletonScope();
  bind(InternalStreams).toSelf().inSingletonScope();
  bind(CursorService).toSelf().inSingletonScope();
  bind(TOKENS.CursorRecords).toConstantValue(protobufCursorRecords);
});
