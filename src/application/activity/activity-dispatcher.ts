import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import type { ActivityEvent } from '../../domain/activity/activity-event';
import { AckPolicy } from '../../domain/shared/wire-enums';
import { ACTIVITY_STREAM } from '../cluster/internal-streams';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { MetadataService } from '../metadata/metadata-service';
import type { ActivityEncoder } from '../ports/activity-encoder.port';
import type { Cancellable, Scheduler } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import type { Metrics } from '../ports/metrics.port';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { PublishHandler } from '../use-cases/publish';
import { PartitionSupervisor } from '../partitions/partition-supervisor';
import { ActivityBacklog } from './activity-backlog';

/** Pauses after failed attempts at the same event: Liftbridge's 1 s, 2 s, 4 s, 8 s, then 10 s. */
export const ACTIVITY_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 10_000];

/**
 * Publishes the activity stream, a controller duty (docs/consumers.md "Activity stream"): each
 * reported metadata entry becomes one record of `__activity`, in log order, with the configured
 * ack policy and timeout; once acknowledged, the progress is recorded in the metadata
 * (RecordActivityPublished) so that the next controller goes on after it. A failed event is tried
 * again after a back-off and nothing after it goes first. Every server keeps the backlog from the
 * entries it applies, so a new controller starts where the last record says.
 */
@injectable()
export class ActivityDispatcher {
  private readonly backlog = new ActivityBacklog();
  private watching: Subscription | null = null;
  private leading = false;
  /** Wakes the loop: an entry was applied, or leadership ended. */
  private wake: (() => void) | null = null;
  private pause: Cancellable | null = null;

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(PublishHandler) private readonly publisher: PublishHandler,
    @inject(TOKENS.ActivityEncoder) private readonly encoder: ActivityEncoder,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
    @inject(PartitionSupervisor) private readonly partitions: PartitionSupervisor,
  ) {}

  /** Follows applied entries (before the replay, so replayed entries count too); nothing when the stream is off. */
  watch(): void {
    if (this.settings.activity === undefined || this.watching !== null) return;
    this.metrics.watchActivityLag(() => this.lag);
    this.watching = this.metadata.applied$.subscribe((entry) => {
      if (entry.kind === 'snapshot') this.backlog.markPublished(entry.state.activityPublishedUpTo);
      else this.backlog.onApplied(entry, entry.state.activityPublishedUpTo);
      this.wakeUp();
    });
  }

  /** Events not yet on `__activity` (the stream's lag). */
  get lag(): number {
    return this.backlog.size;
  }

  becomeController(): void {
    if (this.settings.activity === undefined || this.leading) return;
    this.leading = true;
    void this.run();
  }

  resignController(): void {
    this.leading = false;
    this.pause?.cancel();
    this.pause = null;
    this.wakeUp();
  }

  stop(): void {
    this.resignController();
    this.watching?.unsubscribe();
    this.watching = null;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.leading) {
      const event = this.backlog.next();
      if (event === null) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (await this.publish(event)) {
        failures = 0;
        continue;
      }
      const delayMs = ACTIVITY_RETRY_DELAYS_MS[Math.min(failures++, ACTIVITY_RETRY_DELAYS_MS.length - 1)]!;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.pause = this.scheduler.setTimeout(resolve, delayMs);
      });
    }
  }

  /** One event on `__activity` and its progress recorded; false (logged) when either failed. */
  private async publish(event: ActivityEvent): Promise<boolean> {
    const activity = this.settings.activity!;
    try {
      // The event may be the creation of __activity itself: a publish made before its partition's
      // leader listens here is lost and waits out the publish timeout (as a created stream's RPC waits).
      await this.partitions.settled();
      const published = await this.publisher.publish(
        {
          key: null,
          value: this.encoder.encode(event),
          stream: ACTIVITY_STREAM,
          partition: 0,
          headers: null,
          ackInbox: '',
          correlationId: `activity-${event.id}`,
          ackPolicy: activity.ackPolicy,
          expectedOffset: -1,
        },
        activity.publishTimeoutMs,
      );
      if (!published.ok) {
        this.logger.warn({ id: event.id, op: event.op, error: published.error }, 'activity event not published; will retry');
        return false;
      }
      const recorded = await this.gateway.execute({ type: 'RecordActivityPublished', data: { id: event.id } });
      if (!recorded.ok) {
        this.logger.warn({ id: event.id, error: recorded.error }, 'activity progress not recorded; will retry');
        return false;
      }
      // Applied here too by now (read-your-writes); in case it came through a snapshot instead:
      this.backlog.markPublished(event.id);
      this.metrics.activityPublished();
      return true;
    } catch (error) {
      this.logger.warn({ err: error, id: event.id }, 'activity event not published; will retry');
      return false;
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** The ack policy names of `activity.stream.publish.ack.policy`. */
export const ACTIVITY_ACK_POLICIES: Readonly<Record<'none' | 'leader' | 'all', AckPolicy>> = { none: AckPolicy.NONE, leader: AckPolicy.LEADER, all: AckPolicy.ALL };
