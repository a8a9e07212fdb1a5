import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import { MetadataCommand } from '../../domain/metadata/metadata-commands';
import { MetadataService } from '../metadata/metadata-service';
import { Cancellable, Scheduler } from '../ports/clock.port';
import { ClusterChannel, ForwardedAnswer } from '../ports/cluster-channel.port';
import { Logger } from '../ports/logger.port';
import { Metrics } from '../ports/metrics.port';
import { TOKENS } from '../tokens';
import { BrokerLiveness } from './broker-liveness';
import { MetadataRaftGroup } from '../ports/metadata-raft-group.port';
import { PartitionFailover } from './partition-failover';
import { ActivityDispatcher } from '../activity/activity-dispatcher';
import { InternalStreams } from './internal-streams';
import { GroupCoordinatorFailover } from '../groups/group-coordinator-failover';

/** A transition that failed (serving the control channel, say) is tried again after this long. */
const TRANSITION_RETRY_MS = 1000;

/**
 * The controller's duties (docs/cluster.md "The controller's duties"), taken up while this server leads the metadata Raft group and
 * dropped when it stops: answering forwarded metadata commands and join requests, and judging
 * brokers' liveness, and keeping the internal streams in existence.
 */
@injectable()
export class ControllerRole {
  private following: Subscription | null = null;
  private serving: Cancellable[] = [];
  private active = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.MetadataRaftGroup) private readonly group: MetadataRaftGroup,
    @inject(TOKENS.ClusterChannel) private readonly channel: ClusterChannel,
    @inject(BrokerLiveness) private readonly liveness: BrokerLiveness,
    @inject(PartitionFailover) private readonly failover: PartitionFailover,
    @inject(ActivityDispatcher) private readonly activity: ActivityDispatcher,
    @inject(InternalStreams) private readonly internalStreams: InternalStreams,
    @inject(GroupCoordinatorFailover) private readonly groupFailover: GroupCoordinatorFailover,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  /** Follows leadership of the metadata group (its soft state, no polling) until `stop`. */
  start(): void {
    if (this.following) return;
    this.metrics.controller(false);
    this.following = this.group.leadership$.subscribe(() => this.check());
  }

  async stop(): Promise<void> {
    this.following?.unsubscribe();
    this.following = null;
    await this.transition;
    await this.deactivate();
  }

  /** Queues a transition towards what leadership is now; transitions run one at a time. */
  private check(): void {
    this.transition = this.transition.then(() => this.follow()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'controller role transition failed; trying again');
      this.scheduler.setTimeout(() => this.check(), TRANSITION_RETRY_MS);
    });
  }

  /** Leadership may change again while a transition awaits: go on until the duties match it. */
  private async follow(): Promise<void> {
    while (this.following !== null && this.group.isLeader !== this.active) {
      if (this.group.isLeader) await this.activate();
      else await this.deactivate();
    }
  }

  private async activate(): Promise<void> {
    if (this.active || !this.group.isLeader || !this.following) return;
    this.active = true;
    this.logger.info({ voters: this.group.voters() }, 'this server is now the controller');
    this.serving.push(await this.channel.serveCommands((command) => this.handle(command)));
    this.serving.push(await this.channel.serveJoins((serverId) => this.join(serverId)));
    this.liveness.becomeController();
    this.failover.becomeController();
    this.activity.becomeController();
    this.internalStreams.becomeController();
    this.metrics.controller(true);
  }

  private async deactivate(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.liveness.resignController();
    this.failover.resignController();
    this.activity.resignController();
    this.internalStreams.resignController();
    this.groupFailover.resignController();
    this.metrics.controller(false);
    for (const s of this.serving.splice(0)) s.cancel();
    this.logger.info({ leader: this.group.leaderId() }, 'this server is no longer the controller');
  }

  private async handle(command: MetadataCommand): Promise<ForwardedAnswer> {
    if (!this.group.isLeader) return { kind: 'unavailable', reason: 'not the controller' };
    try {
      // Reports are counted by the controller, never recorded (docs/replication.md "Failover", docs/consumers.md "Coordinator failover").
      const result =
        command.type === 'ReportLeader'
          ? await this.failover.report(command)
          : command.type === 'ReportGroupCoordinator'
            ? await this.groupFailover.report(command)
            : await this.metadata.execute(command);
      if (!result.ok) return { kind: 'refused', error: result.error };
      return { kind: 'applied', events: result.value, index: this.metadata.state.lastAppliedIndex };
    } catch (error) {
      return { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  /** docs/cluster.md "Start-up": only the controller answers; adding a server that already votes is a success. */
  private async join(serverId: string): Promise<string> {
    if (!this.group.isLeader) return 'not the controller';
    if (this.group.voters().includes(serverId)) return '';
    try {
      this.logger.info({ serverId }, 'adding server to the metadata group');
      await this.group.addVoter(serverId);
      return '';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}
