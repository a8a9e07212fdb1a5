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
 * - after that contact lapsed (a silence longer than `leaseMs`; our own pause looks the same) or
 *   the Raft leader changed, a read barrier completed: a no-op command through the controller
 *   (`SetBrokerReachable` of ourselves) whose answer is applied here, so every leader change
 *   decided while we slept is applied too — the partition supervisor has then already demoted a
 *   replaced leader, which acknowledges nothing.
 * Only the contact the lease rests on counts: a peer outside it that speaks again after a silence
 * (a deaf server's election attempts) says nothing about us, and must not hold everyone's acks.
 * A group of one always holds it. Partition leaders are replaced only after
 * `clustering.broker.timeout` (> `leaseMs`) of silence, so a replaced leader has lost the lease.
 */
@injectable()
export class RaftAckLease implements AckLease {
  private validatedFromMs = 0;
  /** The Raft leader when the last barrier began; undefined before any: the first leader heard needs none (nothing was missed before we started). */
  private validatedLeader: string | undefined = undefined;
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
    if (!this.lapsedSinceValidation(self, voters)) return true;
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

  /**
   * Whether the contact `inContact` checks may have lapsed since the last barrier began, or the
   * Raft leader changed. Conservative for a leader: a follower that resumed after a silence, or
   * is silent now, counts as lost for the whole time, and the quorum must hold without it.
   */
  private lapsedSinceValidation(self: string, voters: readonly string[]): boolean {
    const leader = this.group.isLeader ? self : this.group.leaderId()!;
    this.validatedLeader ??= leader;
    if (leader !== this.validatedLeader) return true;
    const since = this.validatedFromMs;
    if (!this.group.isLeader) return this.contact.gapEndMs(leader) > since;
    let steady = voters.includes(self) ? 1 : 0;
    for (const v of voters) if (v !== self && this.contact.gapEndMs(v) <= since && this.contact.silenceMs(v) <= this.settings.ackLeaseMs) steady++;
    return steady <= voters.length / 2;
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
    const leader = this.group.isLeader ? this.settings.serverId : this.group.leaderId();
    this.logger.warn({ leader, previousLeader: this.validatedLeader }, 'metadata contact resumed after a silence or a leader change: revalidating before acknowledging');
    this.gateway
      .execute({ type: 'SetBrokerReachable', data: { id: this.settings.serverId, reachable: true, atNs: this.clock.nowNs().toString() } })
      .then((result) => {
        if (!result.ok) return;
        this.validatedFromMs = startedMs;
        if (leader !== null) this.validatedLeader = leader;
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'lease revalidation failed; will retry'))
      .finally(() => (this.validating = false));
  }
}
