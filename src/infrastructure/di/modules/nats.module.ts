import { ContainerModule } from 'inversify';
import { NatsConnection } from 'nats';
import { Logger } from '../../../application/ports/logger.port';
import { TOKENS } from '../../../application/tokens';
import { NatsMessageTransport } from '../../../adapters/outbound/nats/nats-message-transport';

/** Client traffic over the broker's NATS connections. */
export const natsModule = (connections: { streams: NatsConnection; publishes: NatsConnection }, namespace: string, logger: Logger): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.MessageTransport).toConstantValue(
      new NatsMessageTransport(connections.streams, connections.publishes, namespace, logger.child({ component: 'nats' })),
    );
  });
