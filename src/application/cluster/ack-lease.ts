import { inject, injectable } from 'inversify';
import { AckLease } from '../ports/ack-lease.port';
import { Cancellable, Clock, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import type { PeerContact } from '../ports/peer-contact.port';
import { MetadataGateway } from './metadata-gateway';
import type { MetadataRaftGroup } from '../ports/metadata-raft-group.port';

/** How often waiting acknowledgements re-check the lease. */
const RECHECK_MS = 20;

/**
 * The lease of a metadata group member (docs/replication.md "The acknowledgement lease"). Held when:
 * - this server heard the Raft leader within `leaseMs` (the leader: a quorum of voters), and
 * - after any silence longer than `leaseMs` (our own pause looks the same), a read barrier
 *   completed: a no-op command through the controller (`SetBrokerReachable` of ourselves) whose
 *   answer is applied here, so every leader change decided while we slept is applied too — the
 *   partition supervisor has then already demoted a replaced leader, which acknowledges nothing.
 * A group of one always holds it. Partition leaders are replaced only after
 * `clustering.broker.timeout` (> `leaseMs`) of silence, so a replaced leader has lost the lease.
 */
@injectable()
export class RaftAckLease implements AckLease {
  private validatedFromMs = 0;
  private validating = false;
  private waiters: (() => void)[] = [];
  private recheck: Cancellable | null = null;

  constructor(
    @inject(TOKENS.MetadataRaftGroup) private readonly group: MetadataRaftGroup,
    @inject(TOKENS.PeerContact) private readonly contact: PeerContact,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  holds(): boolean {
    const self = this.settings.serverId;
    const voters = this.group.voters();
    if (voters.length === 1 && voters[0] === self) return true;
    if (!this.inContact(self, voters)) return false;
    if (this.contact.lastGapEndMs() <= this.validatedFromMs) return true;
    this.revalidate();
    return false;
  }

  whenHeld(): Promise<void> {
    if (this.holds()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.recheck ??= this.scheduler.setInterval(() => this.wakeIfHeld(), RECHECK_MS);
    });
  }

  private inContact(self: string, voters: readonly string[]): boolean {
    const leaseMs = this.settings.ackLeaseMs;
    if (this.group.isLeader) {
      let heard = voters.includes(self) ? 1 : 0;
      for (const v of voters) if (v !== self && this.contact.silenceMs(v) <= leaseMs) heard++;
      return heard > voters.length / 2;
    }
    const leader = this.group.leaderId();
    return leader !== null && this.contact.silenceMs(leader) <= leaseMs;
  }

  private wakeIfHeld(): void {
    if (!this.holds()) return;
    this.recheck?.cancel();
    this.recheck = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The read barrier after a silence (see the class comment). */
  private revalidate(): void {
    if (this.validating) return;
    this.validating = true;
    const startedMs = this.clock.nowMs();
    this.logger.warn({ gapEndedMs: this.contact.lastGapEndMs() }, 'metadata contact resumed after a silence: revalidating before acknowledging');
    this.gateway
      .execute({ type: 'SetBrokerReachable', data: { id: this.settings.serverId, reachable: true, atNs: this.clock.nowNs().toString() } })
      .then((result) => {
        if (result.ok) this.validatedFromMs = startedMs;
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'lease revalidation failed; will retry'))
      .finally(() => (this.validating = false));
  }
}
