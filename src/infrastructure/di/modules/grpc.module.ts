import { ContainerModule } from 'inversify';
import { TOKENS } from '../../../application/tokens';
import { CursorService } from '../../../application/cursors/cursor-service';
import { ConsumerGroupService } from '../../../application/groups/consumer-groups';
import { ConsumerGroupInspection } from '../../../application/groups/group-inspection';
import { FetchMetadataQuery } from '../../../application/use-cases/fetch-metadata';
import { PublishHandler } from '../../../application/use-cases/publish';
import { StreamAdminHandler } from '../../../application/use-cases/stream-admin';
import { SubscribeHandler } from '../../../application/use-cases/subscribe';
import { ClientAuthorizer } from '../../../application/ports/client-authorizer.port';
import { createApiHandlers } from '../../../adapters/inbound/grpc/api-service';
import { GrpcApiServer, GrpcServerSettings } from '../../../adapters/inbound/grpc/grpc-api-server';
import { StreamingCalls } from '../../../adapters/inbound/grpc/streaming-calls';
import { groupAdminService } from '../../../adapters/inbound/grpc/group-admin-handlers';

export interface GrpcApiOptions extends GrpcServerSettings {
  /** Client authorization (docs/security.md); null when it is off. */
  readonly authorizer: ClientAuthorizer | null;
}

/** The client API: the gRPC server over the use cases, and the streaming calls it ends itself at shutdown. */
export const grpcModule = (options: GrpcApiOptions): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(StreamingCalls).toDynamicValue(() => new StreamingCalls()).inSingletonScope();
    bind(GrpcApiServer)
      .toDynamicValue((ctx) => {
        const logger = ctx.get(TOKENS.Logger);
        const { authorizer, ...settings } = options;
        const handlers = createApiHandlers({
          admin: ctx.get(StreamAdminHandler),
          metadata: ctx.get(FetchMetadataQuery),
          publisher: ctx.get(PublishHandler),
          subscriber: ctx.get(SubscribeHandler),
          transport: ctx.get(TOKENS.MessageTransport),
          scheduler: ctx.get(TOKENS.Scheduler),
          logger: logger.child({ component: 'grpc' }),
          calls: ctx.get(StreamingCalls),
          authorizer,
          cursors: ctx.get(CursorService),
          groups: ctx.get(ConsumerGroupService),
        });
        const groupAdmin = groupAdminService(ctx.get(ConsumerGroupInspection), authorizer, logger.child({ component: 'grpc' }));
        return new GrpcApiServer(settings, handlers, logger, [groupAdmin]);
      })
      .inSingletonScope();
  });
