import type { NatsConnection } from 'nats';
import { DroppedMessageLog } from '../../application/diagnostics/dropped-message-log';
import type { Logger } from '../../application/ports/logger.port';
import type { Metrics } from '../../application/ports/metrics.port';
import { AuthenticatedNatsConnection } from '../../adapters/outbound/nats/authenticated-nats-connection';
import type { InternalNatsConnection } from '../../adapters/outbound/nats/internal-connection';
import { MessageAuthenticator } from '../../adapters/outbound/nats/message-authenticator';
import { Subjects } from '../../adapters/outbound/nats/subjects';

/**
 * How the broker's internal-traffic adapters (Raft, control channel, replication, seed
 * announcements) get their NATS connections and drop logs (docs/cluster.md "Authentication").
 * With a cluster secret every connection is wrapped so that messages are signed and verified;
 * without one the plain connection is used as is (no cost) and one warning says so at start.
 */
export class InternalTraffic {
  private readonly authenticator: MessageAuthenticator | null;
  private readonly subjects: Subjects;

  constructor(
    secret: Uint8Array | null,
    namespace: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.authenticator = secret === null ? null : new MessageAuthenticator(secret);
    this.subjects = new Subjects(namespace);
    if (secret === null) {
      logger.warn(
        { setting: 'clustering.auth.secret' },
        'internal NATS messages are not authenticated: any NATS client can inject cluster traffic in this namespace; set clustering.auth.secret (docs/cluster.md)',
      );
    } else {
      logger.info({}, 'internal NATS messages are signed with the cluster secret');
    }
  }

  get authenticated(): boolean {
    return this.authenticator !== null;
  }

  /** Counts and rate-limits the log lines of what `component` drops. */
  drops(component: string): DroppedMessageLog {
    return new DroppedMessageLog(this.logger.child({ component }), this.metrics, () => performance.now());
  }

  /** `nc` as the internal adapters of `component` should use it. */
  connection(nc: NatsConnection, component: string): InternalNatsConnection {
    if (this.authenticator === null) return nc;
    return new AuthenticatedNatsConnection(nc, this.authenticator, this.drops(component), (subject) => this.subjects.kindOf(subject), this.subjects.requestInboxPrefix());
  }
}
