import { assignGroup, compareLoad, GroupAssignment, MemberLoad, sortedStreams } from '../../../../src/domain/group/assignment';
import { GroupMember } from '../../../../src/domain/group/group-state';

/** The assignment as `consumer: stream/partition ...`, one line per member, for readable expectations. */
function owned(assignment: GroupAssignment): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [consumer, streams] of assignment) {
    out[consumer] = [...streams].flatMap(([stream, partitions]) => partitions.map((p) => `${stream}/${p}`));
  }
  return out;
}

const counts =
  (table: Record<string, number>) =>
  (stream: string): number =>
    table[stream] ?? 0;
const member = (id: string, ...streams: string[]): GroupMember => ({ id, streams });

describe('the balanced assignment (docs/consumers.md "Assignment")', () => {
  it('pinned by the Go tests: member 2 joining on foo takes foo 0 and 1, member 1 keeps bar', () => {
    const partitions = counts({ foo: 2, bar: 2 });
    expect(owned(assignGroup([member('1', 'foo', 'bar')], partitions))).toEqual({ '1': ['bar/0', 'bar/1', 'foo/0', 'foo/1'] });
    expect(owned(assignGroup([member('1', 'foo', 'bar'), member('2', 'foo')], partitions))).toEqual({
      '1': ['bar/0', 'bar/1'],
      '2': ['foo/0', 'foo/1'],
    });
  });

  it('lifecycle: member 2 leaving gives member 1 all four partitions again (TestConsumerGroupLifecycle)', () => {
    const partitions = counts({ foo: 2, bar: 2 });
    const both = assignGroup([member('1', 'foo', 'bar'), member('2', 'foo')], partitions);
    expect(owned(both)['2']).toEqual(['foo/0', 'foo/1']);
    expect(owned(assignGroup([member('1', 'foo', 'bar')], partitions))['1']).toHaveLength(4);
  });

  it('counts a member load across streams: foo 0,1,2 and bar 0 is 4 (TestConsumerGroupAssignments)', () => {
    const assignment = assignGroup([member('a', 'foo', 'bar')], counts({ foo: 3, bar: 1 }));
    const streams = assignment.get('a')!;
    expect(streams.size).toBe(2);
    expect([...streams.values()].reduce((n, p) => n + p.length, 0)).toBe(4);
    // Without foo (deleted) the member owns bar 0 only; without either, nothing.
    expect(owned(assignGroup([member('a', 'bar')], counts({ bar: 1 })))).toEqual({ a: ['bar/0'] });
    expect(owned(assignGroup([member('a')], counts({})))).toEqual({ a: [] });
  });

  it('orders members by load, ties by consumer id (TestConsumerGroupHeap)', () => {
    const loads: MemberLoad[] = [
      { id: 'a', assigned: 5 },
      { id: 'b', assigned: 2 },
      { id: 'c', assigned: 10 },
      { id: 'd', assigned: 3 },
      { id: 'e', assigned: 0 },
      { id: 'f', assigned: 3 },
    ];
    expect([...loads].sort(compareLoad)[0]!.id).toBe('e');
    const rest = [...loads.filter((l) => l.id !== 'e'), { id: 'g', assigned: 1 }];
    expect(rest.sort(compareLoad).map((l) => l.id)).toEqual(['g', 'b', 'd', 'f', 'a', 'c']);
  });

  it('balances a new member streams in sorted name order (TestConsumerGroupRangeStreamsOrdered)', () => {
    expect(sortedStreams(['e', 'c', 'a', 'd', 'b', 'a'])).toEqual(['a', 'b', 'c', 'd', 'e']);
    // The order decides the outcome: m2 (listing b first) is balanced into "a" first, so it takes
    // both of a's partitions (load 0 and 1 against m1's 2); balancing "b" then finds m1 at 0 and m2
    // at 2, so m1 takes both of b's. Balancing "b" first would have given the mirror image.
    const partitions = counts({ a: 2, b: 2 });
    expect(owned(assignGroup([member('m1', 'a', 'b'), member('m2', 'b', 'a')], partitions))).toEqual({
      m1: ['b/0', 'b/1'],
      m2: ['a/0', 'a/1'],
    });
  });

  it('gives every partition of every consumed stream to exactly one subscriber of that stream', () => {
    const partitions = counts({ x: 5, y: 3, z: 1 });
    const members = [member('c', 'x'), member('a', 'x', 'y'), member('b', 'y', 'z'), member('d', 'x', 'y', 'z')];
    const assignment = assignGroup(members, partitions);
    for (const stream of ['x', 'y', 'z']) {
      const owners = members.flatMap((m) => (assignment.get(m.id)!.get(stream) ?? []).map((p) => ({ p, m: m.id })));
      expect(owners.map((o) => o.p).sort()).toEqual(Array.from({ length: partitions(stream) }, (_, i) => i));
      for (const o of owners) expect(members.find((m) => m.id === o.m)!.streams).toContain(stream);
    }
  });

  it('refuses a membership that lists a consumer twice', () => {
    expect(() => assignGroup([member('a', 'x'), member('a', 'y')], counts({ x: 1, y: 1 }))).toThrow(/listed twice/);
  });
});
