import { ConnectionOptions, NatsConnection } from 'nats';
import { Logger } from '../../../application/ports/logger.port';
import { connectWithRetry, NatsConnectRetry } from './nats-connect-retry';
import { credentialsFileAuthenticator } from './nats-credentials';
import { installNatsFastMsgParse } from './nats-fast-msg-parse';
import { installNatsLargeMessageBuffer } from './nats-large-message-buffer';
import { Subjects } from './subjects';

export interface NatsConnectionSettings {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** TLS to NATS: with a client certificate (cert and key), and/or a CA to verify the server by. */
  readonly tls?: { readonly certFile?: string; readonly keyFile?: string; readonly caFile?: string };
  /** A NATS `.creds` file (user JWT and nkey seed), read at every (re)connect. */
  readonly credentialsFile?: string;
  /** Used in connection names `LIFT.<ns>.<serverId>.<name>` (docs/protocol.md "NATS connections"). */
  readonly namespace: string;
  readonly serverId: string;
  /** Client pings (`nats.ping.interval`, `nats.ping.max.outstanding`): a link silent for interval × max is dropped and reconnected. */
  readonly pingIntervalMs?: number;
  readonly pingMaxOutstanding?: number;
}

/**
 * Opens NATS connections the way Liftbridge does (docs/protocol.md "NATS connections"): named per purpose, reconnecting
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
  const options = natsConnectionOptions(settings, name, logger);
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

/** The TLS version floor of every NATS connection (docs/nats-security.md). */
export const NATS_TLS_MIN_VERSION = 'TLSv1.2';

/**
 * The nats.js options of one connection. Every connection the server opens gets the same
 * security settings (docs/nats-security.md): user and password, or the credentials file; TLS when
 * a client certificate or a CA is configured, never below TLS 1.2. Replies to the server's
 * requests come back on `<ns>._INBOX.…`, inside the cluster's namespace, so that a client allowed
 * to subscribe to `_INBOX.>` cannot read them.
 */
export function natsConnectionOptions(settings: NatsConnectionSettings, name: string, logger: Logger): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: [...settings.servers],
    name: `LIFT.${settings.namespace}.${settings.serverId}.${name}`,
    inboxPrefix: new Subjects(settings.namespace).requestInboxPrefix(),
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A half-open link (the peer vanished without a FIN) is only noticed through unanswered pings.
    pingInterval: settings.pingIntervalMs ?? 2000,
    maxPingOut: settings.pingMaxOutstanding ?? 3,
  };
  if (settings.user !== undefined) options.user = settings.user;
  if (settings.password !== undefined) options.pass = settings.password;
  if (settings.credentialsFile !== undefined) options.authenticator = credentialsFileAuthenticator(settings.credentialsFile, logger);
  const tls = settings.tls;
  if (tls && (tls.caFile || (tls.certFile && tls.keyFile))) {
    // nats.js hands unknown TLS options to tls.connect (minVersion is not in its type).
    options.tls = {
      ...(tls.certFile && tls.keyFile ? { certFile: tls.certFile, keyFile: tls.keyFile } : {}),
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      minVersion: NATS_TLS_MIN_VERSION,
    } as ConnectionOptions['tls'];
  }
  return options;
}
