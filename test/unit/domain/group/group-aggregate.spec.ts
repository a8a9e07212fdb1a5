import { memberAssignment } from '../../../../src/domain/group/group-assignment';
import { evolveGroup } from '../../../../src/domain/group/group-evolve';
import { applyProposal } from '../../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../../src/domain/metadata/metadata-decide';
import { MetadataState } from '../../../../src/domain/metadata/metadata-state';
import { createStream, deleteStream, joinGroup, leaveGroup, registerBroker, stateAfter } from '../../../support/metadata-mothers';

/** Decides and applies one command at the next index; the refusal's kind when decide refuses. */
function step(state: MetadataState, command: MetadataCommand): MetadataState {
  const decided = decide(command, state);
  if (!decided.ok) throw new Error(`${command.type}: ${decided.error.kind}`);
  const applied = applyProposal(state, { proposalId: 'p', ...decided.value }, state.lastAppliedIndex + 1);
  expect(applied.outcome.kind).toBe('applied');
  return applied.state;
}

const refusal = (state: MetadataState, command: MetadataCommand): unknown => {
  const decided = decide(command, state);
  return decided.ok ? 'accepted' : decided.error;
};

const cluster = (): MetadataState =>
  stateAfter(registerBroker('a'), registerBroker('b'), registerBroker('c'), createStream('foo', { partitions: 2 }), createStream('bar', { partitions: 2 }));

const owned = (state: MetadataState, group: string, consumer: string): Record<string, readonly number[]> =>
  Object.fromEntries(memberAssignment(state, state.groups.get(group)!, consumer));

describe('the ConsumerGroup aggregate (docs/consumers.md "Consumer groups")', () => {
  it('the first join creates the group with a coordinator and epoch = the entry index; later joins move the epoch', () => {
    const created = step(cluster(), joinGroup('g', '1', 'foo', 'bar', 'foo'));
    const group = created.groups.get('g')!;
    expect(group).toEqual({ id: 'g', coordinator: 'a', epoch: created.lastAppliedIndex, members: [{ id: '1', streams: ['bar', 'foo'] }] });
    expect(owned(created, 'g', '1')).toEqual({ bar: [0, 1], foo: [0, 1] });

    const joined = step(created, joinGroup('g', '2', 'foo'));
    expect(joined.groups.get('g')!.epoch).toBe(joined.lastAppliedIndex);
    expect(owned(joined, 'g', '1')).toEqual({ bar: [0, 1], foo: [] });
    expect(owned(joined, 'g', '2')).toEqual({ foo: [0, 1] });
  });

  it('places coordinators on the reachable broker coordinating the fewest groups, ties by registration order', () => {
    let state = cluster();
    state = step(state, { type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1' } });
    for (const g of ['g1', 'g2', 'g3']) state = step(state, joinGroup(g, 'x', 'foo'));
    expect(['g1', 'g2', 'g3'].map((g) => state.groups.get(g)!.coordinator)).toEqual(['a', 'c', 'a']);
  });

  it('the last member leaving (or expiring) deletes the group; a re-created group starts at a higher epoch', () => {
    let state = step(step(cluster(), joinGroup('g', '1', 'foo')), joinGroup('g', '2', 'bar'));
    const before = state.groups.get('g')!.epoch;
    state = step(state, leaveGroup('g', '2', true));
    expect(state.groups.get('g')!.members.map((m) => m.id)).toEqual(['1']);
    expect(owned(state, 'g', '1')).toEqual({ foo: [0, 1] });
    state = step(state, leaveGroup('g', '1'));
    expect(state.groups.has('g')).toBe(false);
    state = step(state, joinGroup('g', '1', 'foo'));
    expect(state.groups.get('g')!.epoch).toBeGreaterThan(before);
  });

  it('refuses with the meanings of the RPC errors', () => {
    const state = step(cluster(), joinGroup('g', '1', 'foo'));
    expect(refusal(state, joinGroup('', '1', 'foo'))).toEqual({ kind: 'MissingGroupField', field: 'groupId' });
    expect(refusal(state, joinGroup('g', '', 'foo'))).toEqual({ kind: 'MissingGroupField', field: 'consumerId' });
    expect(refusal(state, joinGroup('g', '2'))).toEqual({ kind: 'MissingGroupField', field: 'streams' });
    expect(refusal(state, joinGroup('h', '1', 'nope'))).toEqual({ kind: 'StreamNotFound', stream: 'nope' });
    expect(refusal(state, joinGroup('g', '2', 'foo', 'nope'))).toEqual({ kind: 'StreamNotFound', stream: 'nope' });
    expect(refusal(state, joinGroup('g', '1', 'bar'))).toEqual({ kind: 'ConsumerAlreadyMember', group: 'g', consumer: '1' });
    expect(refusal(state, leaveGroup('h', '1'))).toEqual({ kind: 'ConsumerGroupNotFound', group: 'h' });
    expect(refusal(state, leaveGroup('g', '2'))).toEqual({ kind: 'ConsumerNotMember', group: 'g', consumer: '2' });
    // An expiry carries the epoch its coordinator saw: at another epoch (the member left and joined again) it is refused.
    const epoch = state.groups.get('g')!.epoch;
    const expiry = (at: number): MetadataCommand => ({ type: 'LeaveConsumerGroup', data: { group: 'g', consumer: '1', expired: true, epoch: at } });
    expect(refusal(state, expiry(epoch - 1))).toEqual({ kind: 'GroupEpochMismatch', group: 'g' });
    expect(refusal(state, expiry(epoch))).toBe('accepted');
    expect(refusal(stateAfter(), joinGroup('g', '1', 'foo'))).toEqual({ kind: 'StreamNotFound', stream: 'foo' });
  });

  it('joining with an unknown stream fails; once it exists the join succeeds; the same id again fails (TestConsumerGroupAddMember)', () => {
    let state = step(cluster(), joinGroup('g', '1', 'foo'));
    expect(refusal(state, joinGroup('g', '2', 'baz'))).toMatchObject({ kind: 'StreamNotFound' });
    state = step(state, createStream('baz'));
    state = step(state, joinGroup('g', '2', 'baz'));
    expect(refusal(state, joinGroup('g', '2', 'baz'))).toMatchObject({ kind: 'ConsumerAlreadyMember' });
  });

  it('a deleted stream leaves the groups that consumed it in the same entry (TestConsumerGroupStreamDeleted)', () => {
    let state = step(step(cluster(), joinGroup('g', '1', 'foo', 'bar')), joinGroup('g', '2', 'foo'));
    state = step(state, joinGroup('other', 'x', 'bar'));
    const otherEpoch = state.groups.get('other')!.epoch;
    state = step(state, deleteStream('foo'));
    const group = state.groups.get('g')!;
    expect(group.epoch).toBe(state.lastAppliedIndex);
    // Member 2 consumed only foo: it stays a member with nothing to consume (docs/consumers.md "Stream deletion").
    expect(group.members).toEqual([
      { id: '1', streams: ['bar'] },
      { id: '2', streams: [] },
    ]);
    expect(owned(state, 'g', '1')).toEqual({ bar: [0, 1] });
    expect(owned(state, 'g', '2')).toEqual({});
    expect(state.groups.get('other')!.epoch).toBe(otherEpoch);
  });

  it('a join decided before the stream was deleted is rejected when applied', () => {
    const state = step(cluster(), joinGroup('g', '1', 'bar'));
    const join = decide(joinGroup('g', '2', 'foo'), state);
    const create = decide(joinGroup('h', '1', 'foo'), state);
    const deleted = step(state, deleteStream('foo'));
    for (const decided of [join, create]) {
      if (!decided.ok) throw new Error('refused');
      const applied = applyProposal(deleted, { proposalId: 'late', ...decided.value }, deleted.lastAppliedIndex + 1);
      expect(applied.outcome).toMatchObject({ kind: 'rejected', failed: { aggregate: { kind: 'stream', stream: 'foo' } } });
    }
  });

  it('two joins decided on the same group version: the second is rejected, then decided again', () => {
    const state = step(cluster(), joinGroup('g', '1', 'foo'));
    const first = decide(joinGroup('g', '2', 'foo'), state);
    const second = decide(joinGroup('g', '3', 'foo'), state);
    if (!first.ok || !second.ok) throw new Error('refused');
    const afterFirst = applyProposal(state, { proposalId: '1', ...first.value }, state.lastAppliedIndex + 1).state;
    const late = applyProposal(afterFirst, { proposalId: '2', ...second.value }, afterFirst.lastAppliedIndex + 1);
    expect(late.outcome).toMatchObject({ kind: 'rejected', failed: { aggregate: { kind: 'group', group: 'g' } } });
    expect(step(late.state, joinGroup('g', '3', 'foo')).groups.get('g')!.members.map((m) => m.id)).toEqual(['1', '2', '3']);
  });
});

describe('coordinator reports and changes (docs/consumers.md "Coordinator failover")', () => {
  const grouped = (): MetadataState => step(step(cluster(), joinGroup('g', '1', 'foo')), joinGroup('g', '2', 'foo'));
  const report = (state: MetadataState, consumer: string, coordinator?: string, epoch?: number): MetadataCommand => {
    const group = state.groups.get('g')!;
    return { type: 'ReportGroupCoordinator', data: { group: 'g', consumer, coordinator: coordinator ?? group.coordinator, epoch: epoch ?? group.epoch } };
  };
  const change = (state: MetadataState, coordinator?: string, epoch?: number): MetadataCommand => {
    const group = state.groups.get('g')!;
    return { type: 'ChangeGroupCoordinator', data: { group: 'g', coordinator: coordinator ?? group.coordinator, epoch: epoch ?? group.epoch } };
  };

  it('a report counts only from a member, about the current coordinator and epoch, and records nothing', () => {
    const state = grouped();
    expect(decide(report(state, '1'), state)).toEqual({ ok: true, value: { events: [], expectations: [] } });
    expect(refusal(state, report(state, '9'))).toEqual({ kind: 'ConsumerNotMember', group: 'g', consumer: '9' });
    expect(refusal(state, report(state, '1', 'b'))).toMatchObject({ kind: 'GroupCoordinatorMismatch', coordinator: 'a', reportedCoordinator: 'b' });
    expect(refusal(state, report(state, '1', 'a', 1))).toMatchObject({ kind: 'GroupCoordinatorMismatch', reportedEpoch: 1 });
    expect(refusal(state, { type: 'ReportGroupCoordinator', data: { group: 'h', consumer: '1', coordinator: 'a', epoch: 1 } })).toEqual({
      kind: 'ConsumerGroupNotFound',
      group: 'h',
    });
    expect(refusal(state, report(state, '1', ''))).toEqual({ kind: 'MissingGroupField', field: 'coordinator' });
  });

  it('moves the group to the least-loaded other broker with a greater epoch (TestConsumerGroupCoordinatorFailover)', () => {
    const state = grouped();
    const after = step(state, change(state));
    const group = after.groups.get('g')!;
    expect(group.coordinator).toBe('b');
    expect(group.epoch).toBeGreaterThan(state.groups.get('g')!.epoch);
    // A second change for the old generation is refused: the witnesses reported a coordinator that is gone.
    expect(refusal(after, change(state, 'a', state.groups.get('g')!.epoch))).toMatchObject({ kind: 'GroupCoordinatorMismatch' });
  });

  it('never moves an epoch back: a change at an index not above the epoch is a broken log (TestConsumerGroupSetCoordinator)', () => {
    const state = grouped();
    const epoch = state.groups.get('g')!.epoch;
    const moved = { type: 'ConsumerGroupCoordinatorChanged' as const, data: { group: 'g', coordinator: 'b' } };
    expect(() => evolveGroup(state, moved, epoch)).toThrow(/changed by entry/);
    expect(evolveGroup(state, moved, epoch + 1).groups.get('g')).toMatchObject({ coordinator: 'b', epoch: epoch + 1 });
  });

  it('has no candidate when the old coordinator is the only reachable broker', () => {
    let state = grouped();
    state = step(state, { type: 'SetBrokerReachable', data: { id: 'b', reachable: false, atNs: '1' } });
    state = step(state, { type: 'SetBrokerReachable', data: { id: 'c', reachable: false, atNs: '1' } });
    expect(refusal(state, change(state))).toEqual({ kind: 'NoGroupCoordinatorCandidates', group: 'g' });
  });
});
