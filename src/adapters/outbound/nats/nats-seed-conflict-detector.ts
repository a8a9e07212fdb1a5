import { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../../../application/ports/logger.port';
import { Subjects } from './subjects';

/** Spec §6.3 step 5: how often a seed server announces itself. */
export const SEED_ANNOUNCE_INTERVAL_MS = 10_000;

/**
 * Misconfiguration detection for `raft.bootstrap.seed` (spec §6.3 step 5): two seeds in one
 * namespace would each bootstrap their own cluster. A seed publishes its id (raw bytes) to
 * `<ns>.raft.metadata.bootstrap` at start and every 10 s with reply subject
 * `<ns>.raft.metadata.bootstrap.reply`; a seed that hears another seed's id answers with its own,
 * and both report the conflict.
 */
export class NatsSeedConflictDetector {
  private readonly subjects: Subjects;
  private subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | null = null;
  private reported = false;

  constructor(
    private readonly nc: NatsConnection,
    namespace: string,
    private readonly serverId: string,
    private readonly logger: Logger,
    private readonly onConflict: (otherSeed: string) => void,
    private readonly intervalMs = SEED_ANNOUNCE_INTERVAL_MS,
  ) {
    this.subjects = new Subjects(namespace);
  }

  async start(): Promise<void> {
    const own = Buffer.from(this.serverId, 'utf8');
    this.subscriptions.push(
      this.nc.subscribe(this.subjects.bootstrapSeeds(), {
        callback: (error, msg) => {
          if (error) return;
          const other = Buffer.from(msg.data).toString('utf8');
          if (other === this.serverId) return;
          if (msg.reply) msg.respond(own);
          this.conflict(other);
        },
      }),
      this.nc.subscribe(this.subjects.bootstrapSeedReplies(), {
        callback: (error, msg) => {
          if (error) return;
          const other = Buffer.from(msg.data).toString('utf8');
          if (other !== this.serverId) this.conflict(other);
        },
      }),
    );
    await this.nc.flush();
    const announce = (): void => {
      if (this.nc.isClosed() || this.nc.isDraining()) return;
      this.nc.publish(this.subjects.bootstrapSeeds(), own, { reply: this.subjects.bootstrapSeedReplies() });
    };
    announce();
    this.timer = setInterval(announce, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
  }

  private conflict(other: string): void {
    if (this.reported) return;
    this.reported = true;
    this.logger.error({ otherSeed: other }, `Server ${other} was also started with raft.bootstrap.seed`);
    this.onConflict(other);
  }
}
