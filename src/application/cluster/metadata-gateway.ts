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
import { OperationDeadline, untilAborted } from '../metadata/operation-deadline';
import { PartitionFailover } from './partition-failover';
import { GroupCoordinatorFailover } from '../groups/group-coordinator-failover';

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
    @inject(GroupCoordinatorFailover) private readonly groupFailover: GroupCoordinatorFailover,
  ) {}

  /**
   * `limit`: the caller's deadline, or a timeout in ms from now (the metadata timeout by default);
   * every wait below ends with it (docs/architecture.md "The metadata write path").
   * `awaitLocalApply: false` returns as soon as the controller applied the command, without waiting
   * for this server's state to catch up (a leader handing its partition over while its own metadata
   * log cannot save).
   */
  async execute(
    command: MetadataCommand,
    limit: number | OperationDeadline = this.settings.metadataTimeoutMs,
    options: { readonly awaitLocalApply?: boolean } = {},
  ): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const deadline = typeof limit === 'number' ? this.startDeadline(limit) : limit;
    const state = { lastReason: 'no controller' };
    try {
      return await this.attempts(command, deadline, options, state);
    } catch (error) {
      // The deadline passed (its own reason, or found expired between two waits): say what was tried.
      if (error !== deadline.signal.reason && !(error instanceof MetadataTimeoutError && deadline.expired)) throw error;
    } finally {
      if (deadline !== limit) deadline.finish();
    }
    this.logger.warn({ command: command.type, reason: state.lastReason, timeoutMs: deadline.timeoutMs }, 'metadata command timed out');
    throw new MetadataTimeoutError(deadline.timeoutMs, state.lastReason);
  }

  /** A deadline of `timeoutMs` from now, for callers that give a timeout. */
  startDeadline(timeoutMs: number): OperationDeadline {
    return OperationDeadline.start(this.clock, this.scheduler, timeoutMs, () => new MetadataTimeoutError(timeoutMs));
  }

  /** Tries until answered; throws the deadline's reason when it passes. */
  private async attempts(
    command: MetadataCommand,
    deadline: OperationDeadline,
    options: { readonly awaitLocalApply?: boolean },
    state: { lastReason: string },
  ): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    const signal = deadline.signal;
    for (;;) {
      if (deadline.expired) throw signal.reason ?? new MetadataTimeoutError(deadline.timeoutMs);
      if (this.log.isLeader) {
        try {
          return await this.onController(command, signal);
        } catch (error) {
          if (!(error instanceof NotMetadataLeaderError)) throw error;
          state.lastReason = error.message;
        }
      } else {
        try {
          const answer = await untilAborted(this.channel.forward(command, deadline.remainingMs()), signal);
          if (answer.kind === 'refused') return err(answer.error);
          if (answer.kind === 'applied') {
            if (options.awaitLocalApply !== false) await this.appliedUpTo(answer.index, signal);
            return ok(answer.events);
          }
          state.lastReason = answer.reason;
        } catch (error) {
          if (!(error instanceof ControllerUnreachableError)) throw error;
          // No other controller, and ours cannot save: say why at once rather than at the deadline.
          const failure = this.log.storageFailure;
          if (failure) throw new RaftStorageFailedError(failure);
          state.lastReason = error.message;
        }
      }
      this.logger.debug({ command: command.type, reason: state.lastReason }, 'metadata command not accepted yet, retrying');
      await untilAborted(this.delay(Math.min(RETRY_DELAY_MS, deadline.remainingMs())), signal);
    }
  }

  /**
   * A follower's leader report and a member's coordinator report are counted by the controller,
   * never recorded (docs/replication.md "Failover", docs/consumers.md "Coordinator failover").
   */
  private onController(command: MetadataCommand, signal: AbortSignal): Promise<Result<readonly MetadataEvent[], MetadataError>> {
    if (command.type === 'ReportLeader') return untilAborted(this.failover.report(command), signal);
    if (command.type === 'ReportGroupCoordinator') return untilAborted(this.groupFailover.report(command), signal);
    return this.metadata.execute(command, signal);
  }

  /** Waits until this server applied `index` (the controller's change reached us), or the deadline. */
  private appliedUpTo(index: number, signal: AbortSignal): Promise<void> {
    if (this.metadata.state.lastAppliedIndex >= index) return Promise.resolve();
    const applied = new Promise<void>((resolve, reject) => {
      const subscription = this.metadata.applied$.subscribe({
        next: () => {
          if (this.metadata.state.lastAppliedIndex < index) return;
          subscription.unsubscribe();
          resolve();
        },
        complete: () => reject(new MetadataTimeoutError(this.settings.metadataTimeoutMs, 'stopped before the change was applied here')),
      });
      signal.addEventListener('abort', () => subscription.unsubscribe(), { once: true });
    });
    return untilAborted(applied, signal);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.setTimeout(resolve, ms));
  }
}
