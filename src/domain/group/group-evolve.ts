import { assert, unreachable } from '../shared/assert';
import { GroupEvent, MetadataEvent } from '../metadata/metadata-events';
import { MetadataState } from '../metadata/metadata-state';
import { findMember, GroupState } from './group-state';

export const isGroupEvent = (event: MetadataEvent): event is GroupEvent =>
  event.type === 'ConsumerGroupCreated' ||
  event.type === 'ConsumerGroupJoined' ||
  event.type === 'ConsumerGroupLeft' ||
  event.type === 'ConsumerGroupCoordinatorChanged';

/** Folds a group event; `index` (the entry's log index) becomes the group's epoch. */
export function evolveGroup(state: MetadataState, event: GroupEvent, index: number): MetadataState {
  const groups = new Map(state.groups);
  const d = event.data;
  const group = groups.get(d.group);
  // Epochs only grow: a change at an index not above the group's epoch means a corrupt log.
  assert(group === undefined || index > group.epoch, `group ${d.group} at epoch ${group?.epoch} changed by entry ${index}`);
  switch (event.type) {
    case 'ConsumerGroupCreated':
      assert(group === undefined, `consumer group ${d.group} created twice`);
      groups.set(d.group, {
        id: d.group,
        coordinator: event.data.coordinator,
        epoch: index,
        members: [{ id: event.data.consumer, streams: event.data.streams }],
      });
      break;
    case 'ConsumerGroupJoined':
      assert(group !== undefined, `event refers to unknown consumer group ${d.group}`);
      assert(!findMember(group, event.data.consumer), `consumer ${event.data.consumer} joined ${d.group} twice`);
      groups.set(d.group, { ...group, epoch: index, members: [...group.members, { id: event.data.consumer, streams: event.data.streams }] });
      break;
    case 'ConsumerGroupLeft': {
      assert(group !== undefined, `event refers to unknown consumer group ${d.group}`);
      const members = group.members.filter((m) => m.id !== event.data.consumer);
      assert(members.length === group.members.length - 1, `consumer ${event.data.consumer} left ${d.group} without being a member`);
      if (members.length === 0) groups.delete(d.group);
      else groups.set(d.group, { ...group, epoch: index, members });
      break;
    }
    case 'ConsumerGroupCoordinatorChanged':
      assert(group !== undefined, `event refers to unknown consumer group ${d.group}`);
      groups.set(d.group, { ...group, coordinator: event.data.coordinator, epoch: index });
      break;
    default:
      return unreachable(event);
  }
  return { ...state, groups };
}

/**
 * A deleted stream leaves every group that consumed it, in the same entry (docs/consumers.md
 * "Stream deletion"): its members stop consuming it and the group's epoch becomes `index`, so the
 * assignments are computed again. A member left with no stream stays a member, with nothing
 * assigned, until it leaves or expires: dropping it here would make its next request fail with "not a
 * member" while its client believes it belongs.
 */
export function removeStreamFromGroups(state: MetadataState, stream: string, index: number): MetadataState {
  let groups: Map<string, GroupState> | undefined;
  for (const group of state.groups.values()) {
    if (!group.members.some((m) => m.streams.includes(stream))) continue;
    groups ??= new Map(state.groups);
    const members = group.members.map((m) => (m.streams.includes(stream) ? { id: m.id, streams: m.streams.filter((s) => s !== stream) } : m));
    groups.set(group.id, { ...group, epoch: index, members });
  }
  return groups ? { ...state, groups } : state;
}
