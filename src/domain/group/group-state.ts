/** One member of a consumer group and the streams it consumes (sorted, no duplicates). */
export interface GroupMember {
  readonly id: string;
  readonly streams: readonly string[];
}

/**
 * A consumer group as the metadata log records it (docs/consumers.md "Consumer groups"). The
 * assignment of partitions to members is not stored: every server computes it from `members`, in
 * this order, with assignment.ts, so it needs no field of its own in the log or the snapshots.
 */
export interface GroupState {
  readonly id: string;
  /** The broker that tracks the members' liveness and answers their assignment requests. */
  readonly coordinator: string;
  /**
   * Metadata log index of the latest change to the group (creation, join, leave, coordinator change,
   * deletion of a stream it consumed). It is also the aggregate's version, and it fences consumers
   * that act on an older assignment.
   */
  readonly epoch: number;
  /** In the order they joined: the assignment depends on it. */
  readonly members: readonly GroupMember[];
}

export const findMember = (group: GroupState, consumer: string): GroupMember | undefined => group.members.find((m) => m.id === consumer);
