import { inject, injectable } from 'inversify';
import { partitionsOf } from '../../domain/group/assignment';
import { groupAssignment } from '../../domain/group/group-assignment';
import { GroupState } from '../../domain/group/group-state';
import { err, ok, Result } from '../../domain/shared/result';
import { ApplicationError } from '../errors/application-errors';
import { MetadataService } from '../metadata/metadata-service';
import { ServerSettings } from '../server-settings';
import { TOKENS } from '../tokens';

/** One line of the group list. */
export interface GroupSummary {
  readonly id: string;
  readonly coordinator: string;
  readonly epoch: number;
  readonly memberCount: number;
}

/** A member, the streams it consumes (sorted) and, per stream in that order, the partitions it owns. */
export interface MemberDescription {
  readonly id: string;
  readonly streams: readonly string[];
  readonly assignments: readonly { readonly stream: string; readonly partitions: readonly number[] }[];
}

export interface GroupDescription {
  readonly id: string;
  readonly coordinator: string;
  readonly epoch: number;
  /** This server's `groups.consumer.timeout`: the setting every coordinator applies. */
  readonly consumerTimeoutMs: number;
  /** In join order, which the assignment depends on. */
  readonly members: readonly MemberDescription[];
}

const byId = (a: GroupState, b: GroupState): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Read-only views of the consumer groups for operators (docs/consumers.md "Inspecting groups"),
 * answered by any server from the metadata it has applied, so a view can lag the controller
 * briefly. The assignment is the coordinator's own computation (`groupAssignment`), not a copy.
 */
@injectable()
export class ConsumerGroupInspection {
  constructor(
    @inject(MetadataService) private readonly metadata: MetadataService,
    @inject(TOKENS.ServerSettings) private readonly settings: ServerSettings,
  ) {}

  /** Every group, sorted by id. */
  list(): readonly GroupSummary[] {
    return [...this.metadata.state.groups.values()]
      .sort(byId)
      .map((g) => ({ id: g.id, coordinator: g.coordinator, epoch: g.epoch, memberCount: g.members.length }));
  }

  describe(groupId: string): Result<GroupDescription, ApplicationError> {
    if (groupId === '') return err({ kind: 'MissingGroupField', field: 'groupId' });
    const state = this.metadata.state;
    const group = state.groups.get(groupId);
    if (group === undefined) return err({ kind: 'ConsumerGroupNotFound', group: groupId });
    const assignment = groupAssignment(state, group);
    return ok({
      id: group.id,
      coordinator: group.coordinator,
      epoch: group.epoch,
      consumerTimeoutMs: this.settings.groups.consumerTimeoutMs,
      members: group.members.map((m) => ({
        id: m.id,
        streams: m.streams,
        assignments: m.streams.map((stream) => ({ stream, partitions: partitionsOf(assignment, m.id, stream) })),
      })),
    });
  }
}
