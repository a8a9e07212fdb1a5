import { ConnectionOptions, NatsConnection } from 'nats';
import { Logger } from '../../../application/ports/logger.port';
import { connectWithRetry, NatsConnectRetry } from './nats-connect-retry';
import { installNatsFastMsgParse } from './nats-fast-msg-parse';
import { installNatsLargeMessageBuffer } from './nats-large-message-buffer';

export interface NatsConnectionSettings {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly tls?: { readonly certFile?: string; readonly keyFile?: string; readonly caFile?: string };
  /** Used in connection names `LIFT.<ns>.<serverId>.<name>` (spec §3.4). */
  readonly namespace: string;
  readonly serverId: string;
  /** Client pings (`nats.ping.interval`, `nats.ping.max.outstanding`): a link silent for interval × max is dropped and reconnected. */
  readonly pingIntervalMs?: number;
  readonly pingMaxOutstanding?: number;
}

/**
 * Opens NATS connections the way Liftbridge does (spec §3.4): named per purpose, reconnecting
 * forever every 250 ms once connected. The first connection is retried as `retry` says (Liftbridge
 * gives up after 5 attempts 5 ms apart; docs/compatibility.md).
 */
export async function openNatsConnection(
  settings: NatsConnectionSettings,
  name: string,
  logger: Logger,
  /** Told when the connection goes down or comes back (metrics, readiness). */
  onConnected: (connected: boolean) => void,
  retry: NatsConnectRetry,
): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: [...settings.servers],
    name: `LIFT.${settings.namespace}.${settings.serverId}.${name}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A half-open link (the peer vanished without a FIN) is only noticed through unanswered pings.
    pingInterval: settings.pingIntervalMs ?? 2000,
    maxPingOut: settings.pingMaxOutstanding ?? 3,
  };
  if (settings.user !== undefined) options.user = settings.user;
  if (settings.password !== undefined) options.pass = settings.password;
  if (settings.tls && settings.tls.certFile && settings.tls.keyFile) {
    options.tls = { certFile: settings.tls.certFile, keyFile: settings.tls.keyFile, ...(settings.tls.caFile ? { caFile: settings.tls.caFile } : {}) };
  }
  if (!installNatsLargeMessageBuffer()) logger.debug({}, 'NATS client internals not as expected: large messages are received without pre-sized buffers');
  // After the pre-sizing patch: frames cut by the end of a read go through it.
  if (!installNatsFastMsgParse()) logger.debug({}, 'NATS client internals not as expected: MSG frames are parsed byte by byte');
  const nc = await connectWithRetry(options, name, logger, retry);
  onConnected(true);
  void nc.closed().then(() => onConnected(false));
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') onConnected(false);
      if (status.type === 'reconnect') onConnected(true);
      const level = status.type === 'disconnect' || status.type === 'error' ? 'warn' : 'debug';
      logger[level]({ connection: name, status: status.type, data: String(status.data) }, 'NATS connection status');
    }
  })();
  return nc;
}
