import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import { MetadataService } from '../metadata/metadata-service';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { ClusterChannel } from '../ports/cluster-channel.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { MetadataGateway } from './metadata-gateway';

/**
 * Failure detection (docs/cluster.md "Failure detection"): every server announces itself every `heartbeatIntervalMs`; the
 * controller remembers when it last heard each broker and records, through the metadata log, a
 * broker that stayed silent for `brokerTimeoutMs` as unreachable, and reachable again once its
 * heartbeats return — heartbeats sent after it was recorded unreachable: a server shutting down
 * records itself unreachable once it stopped announcing (controlled shutdown), and its last
 * heartbeats must not bring it back. A new controller gives every broker a full timeout before
 * judging it.
 */
@injectable()
export class BrokerLiveness {
  private readonly lastSeenMs = new Map<string, number>();
  /** When this controller recorded, or first saw, each unreachable broker as unreachable. */
  private readonly unreachableSinceMs = new Map<string, number>();
  private heartbeats: Subscription | null = null;
  private ticker: Cancellable | null = null;
  private judgingSinceMs: number | null = null;
  private judging = false;

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(TOKENS.ClusterChannel) private readonly channel: ClusterChannel,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  /** Starts announcing this server (call once it is registered) and listening to the others. */
  start(): void {
    if (this.ticker) return;
    this.heartbeats = this.channel.heartbeats$.subscribe((beat) => this.lastSeenMs.set(beat.id, this.clock.nowMs()));
    const announce = (): void =>
      this.channel.announce({ id: this.settings.serverId, host: this.settings.advertiseHost, port: this.settings.advertisePort });
    announce();
    this.ticker = this.scheduler.setInterval(() => {
      announce();
      if (this.judgingSinceMs !== null) void this.judge();
    }, this.settings.heartbeatIntervalMs);
  }

  /** This server became the controller: judge brokers from now on. */
  becomeController(): void {
    this.judgingSinceMs = this.clock.nowMs();
  }

  resignController(): void {
    this.judgingSinceMs = null;
    this.unreachableSinceMs.clear();
  }

  stop(): void {
    this.ticker?.cancel();
    this.ticker = null;
    this.heartbeats?.unsubscribe();
    this.heartbeats = null;
    this.judgingSinceMs = null;
  }

  /** Records the reachability changes the heartbeats imply, one broker at a time. */
  private async judge(): Promise<void> {
    if (this.judging || this.judgingSinceMs === null) return;
    this.judging = true;
    try {
      const now = this.clock.nowMs();
      for (const broker of this.metadata.state.brokers.values()) {
        if (this.judgingSinceMs === null) return;
        if (broker.reachable) this.unreachableSinceMs.delete(broker.id);
        else if (!this.unreachableSinceMs.has(broker.id)) this.unreachableSinceMs.set(broker.id, now);
        const heardMs = this.lastSeenMs.get(broker.id);
        const seen = Math.max(heardMs ?? 0, this.judgingSinceMs);
        const silent = broker.id !== this.settings.serverId && now - seen > this.settings.brokerTimeoutMs;
        if (silent !== broker.reachable) continue;
        if (!silent && (heardMs === undefined || heardMs < this.unreachableSinceMs.get(broker.id)!)) continue; // not heard since
        this.logger.warn({ broker: broker.id, silentMs: now - seen }, silent ? 'broker stopped responding' : 'broker is back');
        await this.gateway.execute(
          { type: 'SetBrokerReachable', data: { id: broker.id, reachable: !silent, atNs: this.clock.nowNs().toString() } },
        );
        if (silent) this.unreachableSinceMs.set(broker.id, now);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not record broker reachability; will retry');
    } finally {
      this.judging = false;
    }
  }
}
