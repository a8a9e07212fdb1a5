import { assert } from '../shared/assert';
import { GroupMember } from './group-state';

/** Per consumer, per stream it consumes, the partitions it owns (ascending; possibly none). */
export type GroupAssignment = ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;

/** How many partitions a stream has; only asked about streams some member consumes. */
export type PartitionCounts = (stream: string) => number;

/** A member's load while assigning: partitions it owns across all streams. */
export interface MemberLoad {
  readonly id: string;
  readonly assigned: number;
}

/**
 * The order of the Go server's per-stream heap: fewest partitions assigned (across all streams)
 * first, ties by consumer id (code units, as Go compares strings byte-wise for ASCII ids).
 */
export const compareLoad = (a: MemberLoad, b: MemberLoad): number => a.assigned - b.assigned || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Stream names in the order streams are balanced when a member is added. */
export const sortedStreams = (streams: Iterable<string>): string[] => [...new Set(streams)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

interface Working {
  readonly id: string;
  assigned: number;
  readonly owned: Map<string, number[]>;
}

/**
 * The balanced assignment of docs/consumers.md "Assignment": the members are added one by one in
 * `members` order; adding one balances each of its streams in sorted name order, and balancing a
 * stream clears its partitions and gives partition 0, 1, ... each to the least-loaded subscriber
 * (`compareLoad`). Computed from the membership alone, so every server and every replay gets the
 * same answer, and a member that left leaves no trace.
 */
export function assignGroup(members: readonly GroupMember[], partitionCount: PartitionCounts): GroupAssignment {
  const subscribers = new Map<string, Working[]>();
  const result = new Map<string, Map<string, number[]>>();
  for (const member of members) {
    assert(!result.has(member.id), `consumer ${member.id} listed twice`);
    const working: Working = { id: member.id, assigned: 0, owned: new Map() };
    result.set(member.id, working.owned);
    for (const stream of sortedStreams(member.streams)) {
      const list = subscribers.get(stream) ?? [];
      subscribers.set(stream, list);
      list.push(working);
      working.owned.set(stream, []);
      balanceStream(stream, list, partitionCount(stream));
    }
  }
  return result;
}

function balanceStream(stream: string, subscribers: readonly Working[], partitions: number): void {
  assert(Number.isSafeInteger(partitions) && partitions >= 0, `stream ${stream} has ${partitions} partitions`);
  for (const member of subscribers) {
    member.assigned -= member.owned.get(stream)!.length;
    member.owned.set(stream, []);
  }
  for (let partition = 0; partition < partitions; partition++) {
    let least = subscribers[0]!;
    for (const candidate of subscribers) if (compareLoad(candidate, least) < 0) least = candidate;
    least.owned.get(stream)!.push(partition);
    least.assigned++;
  }
}

/** The partitions of `stream` that `consumer` owns (empty when it owns none or is not a member). */
export const partitionsOf = (assignment: GroupAssignment, consumer: string, stream: string): readonly number[] =>
  assignment.get(consumer)?.get(stream) ?? [];
