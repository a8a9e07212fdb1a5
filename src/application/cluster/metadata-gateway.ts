import { inject, injectable } from 'inversify';
import { MetadataCommand } from '../../domain/metadata/metadata-commands';
import { MetadataError } from '../../domain/metadata/metadata-errors';
import { MetadataEvent } from '../../domain/metadata/metadata-events';
import { err, ok, Result } from '../../domain/shared/result';
import { MetadataService, MetadataTimeoutError } from '../metadata/metadata-service';
import { RaftStorageFailedError } from '../metadata/raft-driver-errors';
import { NotMetadataLeaderError } from '../ports/metadata-log.port';
import { Clock, Scheduler } from '../ports/clock.port';
import { ClusterChannel, ControllerUnreachableError } from '../ports/cluster-channel.port';
import { Logger } from '../ports/logger.port';
import { MetadataLog } from '../ports/metadata-log.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { PartitionFailover } from './partition-failover';

/** Pause between attempts while no controller answers (an election takes about a second). */
const RETRY_DELAY_MS = 100;

/**
 * Where metadata commands enter (docs/protocol.md "Who answers": any server accepts them): the controller decides and
 * records them itself; any other server forwards them over the cluster channel and relays the
 * answer, after waiting until its own state has applied the change (read-your-writes on every
 * server). Retries while there is no controller, up to the metadata timeout.
 */
@injectable()
export class MetadataGateway {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.MetadataLog) private readonly log: MetadataLog,
    @inject(TOKENS.ClusterChannel) private readonly channel: ClusterChannel,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(PartitionFailover) private readonly failover: PartitionFailover,
  ) {}

  /**
   * `awaitLocalApply: false` returns as soon as the controller applied the command, without waiting
   * for this server's state to catch up (a leader handing its partition over while its own metadata
   * log cannot save).
   */
  async execute(
    command: MetadataCommand,
    timeoutMs = this.settings.metadataTimeoutMs,
    options: { readonly awaitLocalApply?: boolean } = {},
  ): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const deadline = this.clock.nowMs() + timeoutMs;
    let lastReason = 'no controller';
    for (;;) {
      const remaining = deadline - this.clock.nowMs();
      if (remaining <= 0) break;
      if (this.log.isLeader) {
        try {
          // A follower's leader report is counted by the controller, never recorded (docs/replication.md "Failover").
          return await (command.type === 'ReportLeader' ? this.failover.report(command) : this.metadata.execute(command));
        } catch (error) {
          if (!(error instanceof NotMetadataLeaderError)) throw error;
          lastReason = error.message;
        }
      } else {
        try {
          const answer = await this.channel.forward(command, remaining);
          if (answer.kind === 'refused') return err(answer.error);
          if (answer.kind === 'applied') {
            if (options.awaitLocalApply !== false) await this.appliedUpTo(answer.index, deadline);
            return ok(answer.events);
          }
          lastReason = answer.reason;
        } catch (error) {
          if (!(error instanceof ControllerUnreachableError)) throw error;
          // No other controller, and ours cannot save: say why at once rather than at the deadline.
          const failure = this.log.storageFailure;
          if (failure) throw new RaftStorageFailedError(failure);
          lastReason = error.message;
        }
      }
      this.logger.debug({ command: command.type, reason: lastReason }, 'metadata command not accepted yet, retrying');
      await this.delay(Math.min(RETRY_DELAY_MS, Math.max(deadline - this.clock.nowMs(), 0)));
    }
    this.logger.warn({ command: command.type, reason: lastReason, timeoutMs }, 'metadata command timed out');
    throw new MetadataTimeoutError(timeoutMs, lastReason);
  }

  /** Waits until this server applied `index` (the controller's change reached us), or the deadline. */
  private appliedUpTo(index: number, deadline: number): Promise<void> {
    if (this.metadata.state.lastAppliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        subscription.unsubscribe();
        reject(new MetadataTimeoutError(this.settings.metadataTimeoutMs));
      }, Math.max(deadline - this.clock.nowMs(), 1));
      const subscription = this.metadata.applied$.subscribe({
        next: () => {
          if (this.metadata.state.lastAppliedIndex < index) return;
          timer.cancel();
          subscription.unsubscribe();
          resolve();
        },
        complete: () => {
          timer.cancel();
          reject(new MetadataTimeoutError(this.settings.metadataTimeoutMs));
        },
      });
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.setTimeout(resolve, ms));
  }
}
