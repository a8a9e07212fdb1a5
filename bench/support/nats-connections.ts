import { connect, type NatsConnection } from 'nats';
import { withDeadline } from './deadline';

/** A NATS connection for one case run (no reconnects: a broken connection fails the run). */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return withDeadline(connect({ servers: url, name, timeout: 5_000, reconnect: false }), 10_000, `NATS connection ${name}`);
}

/** Closes connections, each within a deadline; never throws (cleanup must not mask the run's error). */
export async function closeNats(...connections: (NatsConnection | undefined)[]): Promise<void> {
  for (const nc of connections) {
    if (!nc || nc.isClosed()) continue;
    try {
      await withDeadline(nc.close(), 5_000, 'NATS connection to close');
    } catch {
      /* the run's own result or error is what matters */
    }
  }
}
