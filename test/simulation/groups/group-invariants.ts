import { assignGroup, GroupAssignment } from '../../../src/domain/group/assignment';
import { groupAssignment } from '../../../src/domain/group/group-assignment';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { GroupModel } from './group-model';

const describeAssignment = (assignment: GroupAssignment): string =>
  JSON.stringify([...assignment].map(([consumer, streams]) => [consumer, [...streams]]));

/**
 * The checks run after every step of the group simulation (docs/simulation.md "Consumer groups").
 * Keeps what it saw of each epoch, so that it can tell a group that changed without a new epoch.
 */
export class GroupInvariants {
  /** Group id -> the highest epoch seen, kept after the group is deleted (a re-created group must go higher). */
  private readonly latestEpoch = new Map<string, number>();
  /** `group@epoch` -> the group and its assignment then: one epoch, one assignment. */
  private readonly byEpoch = new Map<string, string>();

  check(state: MetadataState, model: GroupModel): void {
    const modelGroups = model.groups().sort();
    const stateGroups = [...state.groups.keys()].sort();
    if (JSON.stringify(modelGroups) !== JSON.stringify(stateGroups)) throw new Error(`groups ${JSON.stringify(stateGroups)}, expected ${JSON.stringify(modelGroups)}`);
    for (const group of state.groups.values()) {
      const expectedMembers = model.membersOf(group.id);
      if (JSON.stringify(group.members) !== JSON.stringify(expectedMembers)) {
        throw new Error(`group ${group.id} members ${JSON.stringify(group.members)}, expected ${JSON.stringify(expectedMembers)}`);
      }
      if (!state.brokers.has(group.coordinator)) throw new Error(`group ${group.id} coordinated by unknown broker ${group.coordinator}`);
      const assignment = groupAssignment(state, group);
      this.checkOwnership(state, group.id, assignment, expectedMembers.map((m) => ({ id: m.id, streams: m.streams })));
      const fromScratch = assignGroup(expectedMembers, (s) => state.streams.get(s)!.partitions.length);
      if (describeAssignment(fromScratch) !== describeAssignment(assignment)) throw new Error(`group ${group.id}: assignment differs from the one computed from scratch`);
      this.checkEpoch(group.id, group.epoch, `${group.coordinator} ${JSON.stringify(group.members)} ${describeAssignment(assignment)}`);
    }
  }

  /** Every partition of every consumed stream owned by exactly one member, and only by a member consuming it. */
  private checkOwnership(state: MetadataState, group: string, assignment: GroupAssignment, members: readonly { id: string; streams: readonly string[] }[]): void {
    const owners = new Map<string, string>();
    for (const [consumer, streams] of assignment) {
      const member = members.find((m) => m.id === consumer);
      for (const [stream, partitions] of streams) {
        if (!member?.streams.includes(stream)) throw new Error(`group ${group}: ${consumer} owns ${stream} without consuming it`);
        for (const p of partitions) {
          const key = `${stream}/${p}`;
          const other = owners.get(key);
          if (other !== undefined) throw new Error(`group ${group}: ${key} owned by ${other} and ${consumer} in one epoch`);
          owners.set(key, consumer);
        }
      }
    }
    const consumed = new Set(members.flatMap((m) => m.streams));
    for (const stream of consumed) {
      const count = state.streams.get(stream)?.partitions.length;
      if (count === undefined) throw new Error(`group ${group} consumes deleted stream ${stream}`);
      for (let p = 0; p < count; p++) if (!owners.has(`${stream}/${p}`)) throw new Error(`group ${group}: ${stream}/${p} has no owner`);
    }
  }

  private checkEpoch(group: string, epoch: number, seen: string): void {
    const key = `${group}@${epoch}`;
    const before = this.byEpoch.get(key);
    if (before !== undefined) {
      if (before !== seen) throw new Error(`group ${group} changed without a new epoch (${epoch}): ${before} -> ${seen}`);
      return;
    }
    const latest = this.latestEpoch.get(group) ?? 0;
    if (epoch <= latest) throw new Error(`group ${group} epoch went from ${latest} to ${epoch}`);
    this.latestEpoch.set(group, epoch);
    this.byEpoch.set(key, seen);
  }
}
