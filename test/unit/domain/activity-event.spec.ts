import { activityEventOf } from '../../../src/domain/activity/activity-event';
import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { MetadataCommand } from '../../../src/domain/metadata/metadata-commands';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { MetadataState } from '../../../src/domain/metadata/metadata-state';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

const AT = '1700000000000000001';

/** The activity event of the entry `command` would record on `state`, at the next index. */
function activityOf(state: MetadataState, command: MetadataCommand) {
  const decided = decide(command, state);
  if (!decided.ok) throw new Error(decided.error.kind);
  const index = state.lastAppliedIndex + 1;
  const applied = applyProposal(state, { proposalId: 'p', ...decided.value }, index);
  if (applied.outcome.kind !== 'applied') throw new Error('rejected');
  return { event: activityEventOf(applied.outcome.events, index), state: applied.state };
}

describe('the activity event of a metadata entry (Liftbridge ActivityStreamEvent ops)', () => {
  const base = stateAfter(registerBroker('a'), registerBroker('b'));

  it('CreateStream lists every partition; its id is the entry index', () => {
    expect(activityOf(base, createStream('orders', { partitions: 3 })).event).toEqual({ id: 3, op: 'CreateStream', stream: 'orders', partitions: [0, 1, 2] });
  });

  it('pause, resume, readonly and delete: the partitions the entry changed, with their flags', () => {
    let { state } = activityOf(base, createStream('orders', { partitions: 3 }));
    const pause = activityOf(state, { type: 'PauseStream', data: { name: 'orders', partitions: [0, 2], resumeAll: true, atNs: AT } });
    expect(pause.event).toEqual({ id: 4, op: 'PauseStream', stream: 'orders', partitions: [0, 2], resumeAll: true });
    // Resume of all: only the paused ones change, so only they are listed.
    const resume = activityOf(pause.state, { type: 'ResumeStream', data: { name: 'orders', partitions: [], atNs: AT } });
    expect(resume.event).toEqual({ id: 5, op: 'ResumeStream', stream: 'orders', partitions: [0, 2] });
    const readonly = activityOf(resume.state, { type: 'SetStreamReadonly', data: { name: 'orders', partitions: [1], readonly: true, atNs: AT } });
    expect(readonly.event).toEqual({ id: 6, op: 'SetStreamReadonly', stream: 'orders', partitions: [1], readonly: true });
    state = readonly.state;
    expect(activityOf(state, { type: 'DeleteStream', data: { name: 'orders' } }).event).toEqual({ id: 7, op: 'DeleteStream', stream: 'orders' });
  });

  it('reports nothing for broker, ISR and leader changes', () => {
    const { state } = activityOf(base, createStream('orders', { replicationFactor: 2 }));
    const p = state.streams.get('orders')!.partitions[0]!;
    const follower = p.replicas.find((r) => r !== p.leader)!;
    expect(activityOf(state, { type: 'ShrinkIsr', data: { stream: 'orders', partition: 0, replica: follower, leader: p.leader, leaderEpoch: p.leaderEpoch } }).event).toBeNull();
    expect(activityOf(state, { type: 'SetBrokerReachable', data: { id: follower, reachable: false, atNs: AT } }).event).toBeNull();
    expect(activityOf(state, { type: 'ChangePartitionLeader', data: { stream: 'orders', partition: 0, failedLeader: p.leader } }).event).toBeNull();
    expect(activityOf(base, registerBroker('c')).event).toBeNull();
  });

  it('a group created with its first member, a join and a leave are reported as JoinConsumerGroup and LeaveConsumerGroup', () => {
    const { state } = activityOf(base, createStream('orders'));
    const created = activityOf(state, { type: 'JoinConsumerGroup', data: { group: 'g', consumer: 'c1', streams: ['orders'] } });
    expect(created.event).toEqual({ id: 4, op: 'JoinConsumerGroup', groupId: 'g', consumerId: 'c1', streams: ['orders'] });
    const joined = activityOf(created.state, { type: 'JoinConsumerGroup', data: { group: 'g', consumer: 'c2', streams: ['orders'] } });
    expect(joined.event).toEqual({ id: 5, op: 'JoinConsumerGroup', groupId: 'g', consumerId: 'c2', streams: ['orders'] });
    const left = activityOf(joined.state, { type: 'LeaveConsumerGroup', data: { group: 'g', consumer: 'c1', expired: true } });
    expect(left.event).toEqual({ id: 6, op: 'LeaveConsumerGroup', groupId: 'g', consumerId: 'c1', expired: true });
  });

  it('the progress record moves only forward and is itself no activity', () => {
    const first = activityOf(base, { type: 'RecordActivityPublished', data: { id: 2 } });
    expect(first.event).toBeNull();
    expect(first.state.activityPublishedUpTo).toBe(2);
    expect(decide({ type: 'RecordActivityPublished', data: { id: 1 } }, first.state)).toEqual({ ok: true, value: { events: [], expectations: [] } });
    expect(decide({ type: 'RecordActivityPublished', data: { id: 2 } }, first.state)).toEqual({ ok: true, value: { events: [], expectations: [] } });
  });
});
