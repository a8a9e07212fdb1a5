import { inject, injectable } from 'inversify';
import { memberAssignment } from '../../domain/group/group-assignment';
import { findMember } from '../../domain/group/group-state';
import { err, ok, Result } from '../../domain/shared/result';
import { MetadataGateway } from '../cluster/metadata-gateway';
import { ApplicationError } from '../errors/application-errors';
import { MetadataService } from '../metadata/metadata-service';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';
import { GroupLivenessTimers } from './group-liveness-timers';

export interface GroupMembership {
  readonly group: string;
  readonly consumer: string;
}

/** What a member learns when it joins: whom to ask for assignments, the epoch, and the two timeouts it must honour. */
export interface JoinAnswer {
  readonly coordinator: string;
  readonly epoch: number;
  readonly consumerTimeoutMs: number;
  readonly coordinatorTimeoutMs: number;
}

/** A member's assignment: the group epoch and, per stream it consumes (sorted), the partitions it owns. */
export interface AssignmentAnswer {
  readonly epoch: number;
  readonly assignments: readonly { readonly stream: string; readonly partitions: readonly number[] }[];
}

/**
 * The consumer-group calls (docs/consumers.md "Consumer groups"): joins, leaves and coordinator
 * reports go through the metadata gateway from any server; assignment requests are answered by the
 * group's coordinator alone, from its applied metadata, and keep the member alive there.
 */
@injectable()
export class ConsumerGroupService {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(MetadataGateway) private readonly gateway: MetadataGateway,
    @inject(GroupLivenessTimers) private readonly timers: GroupLivenessTimers,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
  ) {}

  /** The answer's epoch is the group's after the join (this server applied it before answering). */
  async join(member: GroupMembership, streams: readonly string[]): Promise<Result<JoinAnswer, ApplicationError>> {
    const missing = missingField(member) ?? (streams.length === 0 ? err({ kind: 'MissingGroupField', field: 'streams' }) : undefined);
    if (missing) return missing;
    const result = await this.gateway.execute({ type: 'JoinConsumerGroup', data: { group: member.group, consumer: member.consumer, streams } });
    if (!result.ok) return result;
    // Gone again already (the member left at once): as Go answers for a group that vanished.
    const group = this.metadata.state.groups.get(member.group);
    if (group === undefined) return err({ kind: 'ConsumerGroupNotFound', group: member.group });
    return ok({
      coordinator: group.coordinator,
      epoch: group.epoch,
      consumerTimeoutMs: this.settings.groups.consumerTimeoutMs,
      coordinatorTimeoutMs: this.settings.groups.coordinatorTimeoutMs,
    });
  }

  async leave(member: GroupMembership): Promise<Result<void, ApplicationError>> {
    const missing = missingField(member);
    if (missing) return missing;
    const result = await this.gateway.execute({ type: 'LeaveConsumerGroup', data: { group: member.group, consumer: member.consumer, expired: false } });
    return result.ok ? ok(undefined) : result;
  }

  /** Counted by the controller (docs/consumers.md "Coordinator failover"). */
  async reportCoordinator(member: GroupMembership, coordinator: string, epoch: number): Promise<Result<void, ApplicationError>> {
    const missing = missingField(member) ?? (coordinator === '' ? err({ kind: 'MissingGroupField', field: 'coordinator' }) : undefined);
    if (missing) return missing;
    const result = await this.gateway.execute({ type: 'ReportGroupCoordinator', data: { group: member.group, consumer: member.consumer, coordinator, epoch } });
    return result.ok ? ok(undefined) : result;
  }

  /**
   * On the coordinator: the member's partitions at `epoch`, which must be the group's current one.
   * Resets the member's liveness timer.
   */
  fetchAssignments(member: GroupMembership, epoch: number): Result<AssignmentAnswer, ApplicationError> {
    const missing = missingField(member);
    if (missing) return missing;
    const state = this.metadata.state;
    const group = state.groups.get(member.group);
    if (group === undefined) return err({ kind: 'ConsumerGroupNotFound', group: member.group });
    if (group.coordinator !== this.settings.serverId) return err({ kind: 'NotGroupCoordinator', group: member.group });
    if (group.epoch !== epoch) return err({ kind: 'GroupEpochMismatch', group: member.group });
    if (!findMember(group, member.consumer)) return err({ kind: 'ConsumerNotMember', group: member.group, consumer: member.consumer });
    if (!this.timers.touch(member.group, member.consumer)) return err({ kind: 'ConsumerNotActive', group: member.group, consumer: member.consumer });
    const owned = memberAssignment(state, group, member.consumer);
    return ok({ epoch: group.epoch, assignments: [...owned].map(([stream, partitions]) => ({ stream, partitions })) });
  }
}

/** Checked before anything is sent to the controller, as Go does (the domain checks them again). */
function missingField(member: GroupMembership): Result<never, ApplicationError> | undefined {
  if (member.group === '') return err({ kind: 'MissingGroupField', field: 'groupId' });
  if (member.consumer === '') return err({ kind: 'MissingGroupField', field: 'consumerId' });
  return undefined;
}
