import { PartitionState } from '../../domain/partition/partition-state';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { AckLease } from '../ports/ack-lease.port';
import { Clock } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ServerSettings } from '../server-settings';

export interface PartitionControllerRequestsDeps {
  readonly gateway: MetadataGateway;
  readonly ackLease: AckLease;
  readonly settings: ServerSettings;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * What the partition roles running here ask of the controller (docs/replication.md): ISR changes
 * from a leader, leader reports from a follower, a leader's hand-over, an idle leader's pause. Requests that a server cut
 * off from the metadata group should not make (it may be the deaf one) are held back here.
 */
export class PartitionControllerRequests {
  constructor(private readonly deps: PartitionControllerRequestsDeps) {}

  /** docs/replication.md "Failover": a follower whose leader stays silent tells the controller; refusals (another generation by now) are expected. */
  async reportLeader(partition: PartitionState): Promise<boolean> {
    // A follower that cannot hear the metadata group may be the deaf one: its leader's silence is
    // then its own, and with an ISR of two its report alone would hand the leadership to it.
    if (!this.deps.ackLease.holds()) return false;
    const result = await this.deps.gateway.execute(
      {
        type: 'ReportLeader',
        data: { stream: partition.stream, partition: partition.id, replica: this.deps.settings.serverId, leader: partition.leader, leaderEpoch: partition.leaderEpoch },
      },
      this.deps.settings.replication.leaderTimeoutMs,
      { awaitLocalApply: false },
    );
    if (!result.ok) this.deps.logger.debug({ stream: partition.stream, partition: partition.id, refused: result.error.kind }, 'leader report refused');
    return true;
  }

  /** docs/replication.md "ISR changes": the leader asks the controller; the new ISR comes back through the metadata. */
  async changeIsr(type: 'ShrinkIsr' | 'ExpandIsr', partition: PartitionState, replica: string): Promise<boolean> {
    // A leader out of contact with the metadata group may be the one that cannot hear (a one-way
    // cut): its followers' silence is then its own deafness, and shrinking them would leave it the
    // only in-sync replica, which nobody could replace. It asks again at its next health check;
    // it acknowledges nothing meanwhile anyway (docs/replication.md "Failover").
    if (type === 'ShrinkIsr' && !this.deps.ackLease.holds()) {
      this.deps.logger.debug({ stream: partition.stream, partition: partition.id, replica }, 'ISR shrink deferred: no confirmed metadata contact');
      return false;
    }
    const result = await this.deps.gateway.execute({
      type,
      data: { stream: partition.stream, partition: partition.id, replica, leader: this.deps.settings.serverId, leaderEpoch: partition.leaderEpoch },
    });
    if (!result.ok) this.deps.logger.warn({ stream: partition.stream, partition: partition.id, replica, type, refused: result.error.kind }, 'ISR change refused');
    return result.ok;
  }

  /** PartitionHealthMonitor (damaged records, a log that cannot write): this leader asks the controller to be replaced by an in-sync replica; true once recorded. */
  async handOverLeadership(partition: PartitionState): Promise<boolean> {
    // Not waiting for our own state: it may not catch up while our metadata log cannot save.
    const result = await this.deps.gateway.execute(
      { type: 'ChangePartitionLeader', data: { stream: partition.stream, partition: partition.id, failedLeader: this.deps.settings.serverId } },
      undefined,
      { awaitLocalApply: false },
    );
    if (!result.ok) {
      this.deps.logger.warn({ stream: partition.stream, partition: partition.id, refused: result.error.kind }, 'leadership hand-over refused');
      return false;
    }
    return true;
  }

  /**
   * docs/consumers.md "Auto-pause": an idle leader asks for its partition alone to be paused
   * (resumeAll off); true once recorded. Like an ISR shrink, not while out of contact with the
   * metadata group: this server may no longer lead the partition.
   */
  async pauseIdle(partition: PartitionState): Promise<boolean> {
    const where = { stream: partition.stream, partition: partition.id };
    if (!this.deps.ackLease.holds()) {
      this.deps.logger.debug(where, 'auto-pause deferred: no confirmed metadata contact');
      return false;
    }
    const command = { type: 'PauseStream', data: { name: partition.stream, partitions: [partition.id], resumeAll: false, atNs: this.deps.clock.nowNs().toString() } } as const;
    try {
      const result = await this.deps.gateway.execute(command, undefined, { awaitLocalApply: false });
      if (result.ok) return true;
      this.deps.logger.warn({ ...where, refused: result.error.kind }, 'auto-pause refused');
    } catch (error) {
      this.deps.logger.warn({ ...where, err: error }, 'auto-pause not recorded');
    }
    return false;
  }
}
