import { ContainerModule } from 'inversify';
import { NatsConnection } from 'nats';
import { TOKENS } from '../../../application/tokens';
import { NatsMessageTransport } from '../../../adapters/outbound/nats/nats-message-transport';

/** Client traffic over the broker's NATS connections (opened before the container is built). */
export const natsModule = (connections: { readonly streams: NatsConnection; readonly publishes: NatsConnection }): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.MessageTransport)
      .toDynamicValue((ctx) => {
        const logger = ctx.get(TOKENS.Logger).child({ component: 'nats' });
        return new NatsMessageTransport(connections.streams, connections.publishes, ctx.get(TOKENS.ServerSettings).namespace, logger);
      })
      .inSingletonScope();
  });
