import { assert } from '../shared/assert';
import { MetadataState } from '../metadata/metadata-state';
import { assignGroup, GroupAssignment } from './assignment';
import { GroupState } from './group-state';

/**
 * The group's assignment in `state` (docs/consumers.md "Assignment"): the same on every server
 * that applied the same entries. A member's streams always exist, since a deleted stream leaves
 * the groups in the same entry (group-evolve.ts).
 */
export function groupAssignment(state: MetadataState, group: GroupState): GroupAssignment {
  return assignGroup(group.members, (name) => {
    const stream = state.streams.get(name);
    assert(stream !== undefined, `group ${group.id} consumes unknown stream ${name}`);
    return stream.partitions.length;
  });
}

/** The partitions one member owns, per stream it consumes (empty for a non-member). */
export function memberAssignment(state: MetadataState, group: GroupState, consumer: string): ReadonlyMap<string, readonly number[]> {
  return groupAssignment(state, group).get(consumer) ?? new Map();
}
