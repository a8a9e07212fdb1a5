import { sortedStreams } from '../../../src/domain/group/assignment';
import { GroupMember } from '../../../src/domain/group/group-state';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';

/**
 * What the simulation expects of the groups, kept apart from the domain: updated from each
 * command whose entry applied (never from the events), so that a fold that loses a member, reorders
 * the members or forgets a deleted stream shows up as a difference.
 */
export class GroupModel {
  private readonly members = new Map<string, GroupMember[]>();

  /** Called once `command`'s entry applied. */
  applied(command: MetadataCommand): void {
    switch (command.type) {
      case 'JoinConsumerGroup': {
        const list = this.members.get(command.data.group) ?? [];
        this.members.set(command.data.group, [...list, { id: command.data.consumer, streams: sortedStreams(command.data.streams) }]);
        break;
      }
      case 'LeaveConsumerGroup': {
        const list = (this.members.get(command.data.group) ?? []).filter((m) => m.id !== command.data.consumer);
        if (list.length === 0) this.members.delete(command.data.group);
        else this.members.set(command.data.group, list);
        break;
      }
      case 'DeleteStream':
        for (const [group, list] of this.members) {
          this.members.set(
            group,
            list.map((m) => ({ id: m.id, streams: m.streams.filter((s) => s !== command.data.name) })),
          );
        }
        break;
      default:
        break;
    }
  }

  groups(): string[] {
    return [...this.members.keys()];
  }

  membersOf(group: string): readonly GroupMember[] {
    return this.members.get(group) ?? [];
  }

  isMember(group: string, consumer: string): boolean {
    return this.membersOf(group).some((m) => m.id === consumer);
  }
}
