import { inject, injectable } from 'inversify';
import { Subscription } from 'rxjs';
import { findMember } from '../../domain/group/group-state';
import { MetadataState } from '../../domain/metadata/metadata-state';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { AppliedEntry, MetadataService } from '../metadata/metadata-service';
import { Cancellable, Scheduler } from '../ports/clock.port';
import { Logger } from '../ports/logger.port';
import { ConsumerGroupCounts, Metrics } from '../ports/metrics.port';
import { groupAssignment } from '../../domain/group/group-assignment';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

/** An expiry refused because the group changed meanwhile is sent again this soon, at the new epoch. */
const EPOCH_CHANGED_RETRY_MS = 100;

/** One member's liveness timer; a new object each time the member is armed, so a stale expiry can tell. */
interface MemberTimer {
  handle: Cancellable;
}

/**
 * The coordinator's liveness timers (docs/consumers.md "Liveness"): on the server that coordinates
 * a group, one timer of `groups.consumer.timeout` per member, armed when the member joins or when
 * this server becomes the coordinator (never for replayed entries: after the replay,
 * `startRecovered` arms the groups this server coordinates), reset by each assignment fetch. A timer
 * that fires removes the member (`LeaveConsumerGroup { expired: true }` through the gateway); a
 * failed removal arms it again.
 */
@injectable()
export class GroupLivenessTimers {
  /** Group id -> consumer id -> timer, for the groups this server coordinates. */
  private readonly timers = new Map<string, Map<string, MemberTimer>>();
  private subscription: Subscription | null = null;

  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
    @inject(TOKENS.Scheduler) private readonly scheduler: Scheduler,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Metrics) private readonly metrics: Metrics,
  ) {}

  /** Follows applied entries; call before the metadata replay. */
  watch(): void {
    if (this.subscription) return;
    this.metrics.watchConsumerGroups(() => consumerGroupCounts(this.metadata.state, this.settings.serverId));
    this.subscription = this.metadata.applied$.subscribe((entry) => this.onApplied(entry));
  }

  /** After the replay: the members of the groups this server coordinates get a full timeout from now. */
  startRecovered(): void {
    this.reconcile(this.metadata.state);
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    for (const members of this.timers.values()) for (const timer of members.values()) timer.handle.cancel();
    this.timers.clear();
  }

  /** Whether this server runs a liveness timer for the member. */
  isActive(group: string, consumer: string): boolean {
    return this.timers.get(group)?.has(consumer) ?? false;
  }

  /** The member was heard (an assignment fetch): its timer starts over. False when it has none. */
  touch(group: string, consumer: string): boolean {
    const timer = this.timers.get(group)?.get(consumer);
    if (timer === undefined) return false;
    this.rearm(group, consumer, timer);
    return true;
  }

  private onApplied(entry: AppliedEntry): void {
    if (entry.recovered) return;
    if (entry.kind === 'snapshot') return this.reconcile(entry.state);
    if (entry.outcome.kind !== 'applied') return;
    if (entry.outcome.events.some((e) => e.type.startsWith('ConsumerGroup'))) this.reconcile(entry.state);
  }

  /** Timers for exactly the members of the groups `state` says this server coordinates. */
  private reconcile(state: MetadataState): void {
    const self = this.settings.serverId;
    for (const [id, members] of this.timers) {
      const group = state.groups.get(id);
      for (const [consumer, timer] of members) {
        if (group !== undefined && group.coordinator === self && findMember(group, consumer)) continue;
        timer.handle.cancel();
        members.delete(consumer);
      }
      if (members.size === 0) this.timers.delete(id);
    }
    for (const group of state.groups.values()) {
      if (group.coordinator !== self) continue;
      let members = this.timers.get(group.id);
      for (const member of group.members) {
        if (members?.has(member.id)) continue;
        if (members === undefined) this.timers.set(group.id, (members = new Map()));
        const timer: MemberTimer = { handle: { cancel: () => undefined } };
        members.set(member.id, timer);
        this.rearm(group.id, member.id, timer);
      }
    }
  }

  private rearm(group: string, consumer: string, timer: MemberTimer, afterMs = this.settings.groups.consumerTimeoutMs): void {
    timer.handle.cancel();
    timer.handle = this.scheduler.setTimeout(() => this.expire(group, consumer, timer), afterMs);
  }

  /**
   * Only the timer armed for this membership removes the member: a member that left and joined
   * again has a new timer object, and the old one's expiry does nothing. The leave carries the
   * group epoch seen here, so one that reaches the controller after the member left and joined
   * again is refused there (GroupEpochMismatch) instead of removing the new membership.
   */
  private expire(group: string, consumer: string, timer: MemberTimer): void {
    if (this.timers.get(group)?.get(consumer) !== timer) return;
    const epoch = this.metadata.state.groups.get(group)?.epoch;
    if (epoch === undefined) return;
    this.logger.info({ group, consumer, epoch, timeoutMs: this.settings.groups.consumerTimeoutMs }, 'consumer group member expired, removing it');
    this.gateway.execute({ type: 'LeaveConsumerGroup', data: { group, consumer, expired: true, epoch } }).then(
      (result) => {
        // Applied: the entry drops the timer. Already gone: nothing to remove.
        if (result.ok || result.error.kind === 'ConsumerGroupNotFound' || result.error.kind === 'ConsumerNotMember') return;
        // The group changed since (another member joined, say): expire again at its new epoch, soon.
        if (result.error.kind === 'GroupEpochMismatch') return this.retry(group, consumer, timer, result.error.kind, EPOCH_CHANGED_RETRY_MS);
        this.retry(group, consumer, timer, result.error.kind);
      },
      (error: unknown) => this.retry(group, consumer, timer, error instanceof Error ? error.message : String(error)),
    );
  }

  private retry(group: string, consumer: string, timer: MemberTimer, reason: string, afterMs = this.settings.groups.consumerTimeoutMs): void {
    if (this.timers.get(group)?.get(consumer) !== timer) return;
    this.logger.warn({ group, consumer, reason, afterMs }, 'could not remove an expired consumer group member; trying again');
    this.rearm(group, consumer, timer, afterMs);
  }
}

/** The consumer-group gauges (read at metrics collection, not per change). */
export function consumerGroupCounts(state: MetadataState, serverId: string): ConsumerGroupCounts {
  let members = 0;
  let coordinated = 0;
  let assignedPartitions = 0;
  for (const group of state.groups.values()) {
    members += group.members.length;
    if (group.coordinator !== serverId) continue;
    coordinated++;
    for (const streams of groupAssignment(state, group).values()) for (const partitions of streams.values()) assignedPartitions += partitions.length;
  }
  return { groups: state.groups.size, members, coordinated, assignedPartitions };
}
