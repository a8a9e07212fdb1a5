import { applyProposal } from '../../../src/domain/metadata/apply-proposal';
import { decide, PARTITIONS_MAX } from '../../../src/domain/metadata/metadata-decide';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

describe('CreateStream', () => {
  it('creates the stream and its partitions, led by the only broker', () => {
    const state = stateAfter(registerBroker('a'), createStream('orders', { partitions: 3 }));
    const stream = state.streams.get('orders')!;
    expect(stream.partitions.map((p) => [p.id, p.leader, p.replicas, p.isr])).toEqual([
      [0, 'a', ['a'], ['a']],
      [1, 'a', ['a'], ['a']],
      [2, 'a', ['a'], ['a']],
    ]);
    // leader epoch = index of the entry that created the partition (docs/protocol.md "Data model")
    expect(stream.partitions[0]!.leaderEpoch).toBe(2);
  });

  it('refuses a second stream with the same name, whatever the subject', () => {
    const state = stateAfter(registerBroker('a'), createStream('orders'));
    const result = decide(createStream('orders', { subject: 'other' }), state);
    expect(result).toEqual({ ok: false, error: { kind: 'StreamAlreadyExists', stream: 'orders' } });
  });

  it.each([
    ['', 'InvalidStreamName'],
    ['a.b', 'InvalidStreamName'],
    ['a b', 'InvalidStreamName'],
    ['a*', 'InvalidStreamName'],
    ['../x', 'InvalidStreamName'],
    ['x'.repeat(250), 'InvalidStreamName'],
    ['__cursors', 'StreamNameReserved'],
    ['__activity', 'StreamNameReserved'],
  ])('refuses the name %j with %s', (name, kind) => {
    const result = decide(createStream(name), stateAfter(registerBroker('a')));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.kind).toBe(kind);
  });

  it.each(['', 'foo bar', 'foo..bar', '.foo', 'foo.', 'foo.>.bar', 'fo*', '>', '*.x', 'liftbridge-default.acks'])(
    'refuses the subject %j',
    (subject) => {
      const result = decide(createStream('s', { subject }), stateAfter(registerBroker('a')));
      expect(!result.ok && result.error.kind).toBe('InvalidSubject');
    },
  );

  it.each(['foo', 'foo.*', 'foo.>', 'foo.*.bar'])('accepts the subject %j (wildcards are a feature)', (subject) => {
    expect(decide(createStream('s', { subject }), stateAfter(registerBroker('a'))).ok).toBe(true);
  });

  it.each([0, -1, PARTITIONS_MAX + 1, 1.5])('refuses %p partitions', (partitions) => {
    const result = decide(createStream('s', { partitions }), stateAfter(registerBroker('a')));
    expect(!result.ok && result.error.kind).toBe('InvalidPartitionCount');
  });

  it('refuses a replication factor larger than the cluster, and -2', () => {
    const state = stateAfter(registerBroker('a'));
    expect(decide(createStream('s', { replicationFactor: 2 }), state)).toEqual({
      ok: false,
      error: { kind: 'InvalidReplicationFactor', replicationFactor: 2, clusterSize: 1 },
    });
    expect(!decide(createStream('s', { replicationFactor: -2 }), state).ok).toBe(true);
  });

  it('places replicas by least load and the leader by least leader load', () => {
    const state = stateAfter(
      registerBroker('a'),
      registerBroker('b'),
      registerBroker('c'),
      createStream('s1', { replicationFactor: 1 }),
      createStream('s2', { replicationFactor: 2 }),
    );
    // s1 on a; then b and c have the least load.
    expect(state.streams.get('s1')!.partitions[0]!.replicas).toEqual(['a']);
    expect(state.streams.get('s2')!.partitions[0]!.replicas).toEqual(['b', 'c']);
    expect(state.streams.get('s2')!.partitions[0]!.leader).toBe('b');
    const all = stateAfter(registerBroker('a'), registerBroker('b'), createStream('s', { replicationFactor: -1 }));
    expect(all.streams.get('s')!.partitions[0]!.replicas).toEqual(['a', 'b']);
  });

  it('rejects impossible overrides (bad input A7)', () => {
    const state = stateAfter(registerBroker('a'));
    for (const config of [{ retentionMaxBytes: -1 }, { segmentMaxBytes: 0 }, { segmentMaxBytes: 2 ** 31 }, { minIsr: 2 }, { cleanerIntervalMs: 0 }]) {
      const result = decide(createStream('s', { config }), state);
      expect(!result.ok && result.error.kind).toBe('InvalidStreamConfig');
    }
  });
});

describe('DeleteStream', () => {
  it('removes the stream', () => {
    const state = stateAfter(registerBroker('a'), createStream('s'), { type: 'DeleteStream', data: { name: 's' } });
    expect(state.streams.has('s')).toBe(false);
  });
  it('refuses an unknown stream', () => {
    expect(decide({ type: 'DeleteStream', data: { name: 'nope' } }, stateAfter(registerBroker('a')))).toEqual({
      ok: false,
      error: { kind: 'StreamNotFound', stream: 'nope' },
    });
  });
});

describe('PauseStream / ResumeStream / SetStreamReadonly', () => {
  const base = () => stateAfter(registerBroker('a'), createStream('s', { partitions: 2 }));

  it('pauses all partitions when none are listed, and is idempotent', () => {
    const pause = { type: 'PauseStream', data: { name: 's', partitions: [], resumeAll: true, atNs: '5' } } as const;
    const state = stateAfter(registerBroker('a'), createStream('s', { partitions: 2 }), pause, pause);
    expect(state.streams.get('s')!.partitions.map((p) => p.paused)).toEqual([true, true]);
    expect(state.streams.get('s')!.resumeAll).toBe(true);
    expect(state.streams.get('s')!.partitions[0]!.pauseTimestamps).toEqual({ firstNs: '5', latestNs: '5' });
    const again = decide(pause, state);
    expect(again.ok && again.value.events).toEqual([]);
  });

  it('resumes only the listed partitions and keeps the first pause time', () => {
    const state = stateAfter(
      registerBroker('a'),
      createStream('s', { partitions: 2 }),
      { type: 'PauseStream', data: { name: 's', partitions: [], resumeAll: false, atNs: '5' } },
      { type: 'ResumeStream', data: { name: 's', partitions: [0], atNs: '9' } },
    );
    const [p0, p1] = state.streams.get('s')!.partitions;
    expect([p0!.paused, p1!.paused]).toEqual([false, true]);
    expect(p0!.pauseTimestamps).toEqual({ firstNs: '5', latestNs: '9' });
  });

  it('refuses unknown partitions and streams', () => {
    const result = decide({ type: 'SetStreamReadonly', data: { name: 's', partitions: [7], readonly: true, atNs: '1' } }, base());
    expect(result).toEqual({ ok: false, error: { kind: 'PartitionNotFound', stream: 's', partition: 7 } });
    const missing = decide({ type: 'PauseStream', data: { name: 'x', partitions: [], resumeAll: false, atNs: '1' } }, base());
    expect(!missing.ok && missing.error.kind).toBe('StreamNotFound');
  });

  it('sets and clears read-only with timestamps', () => {
    const state = stateAfter(
      registerBroker('a'),
      createStream('s'),
      { type: 'SetStreamReadonly', data: { name: 's', partitions: [], readonly: true, atNs: '3' } },
      { type: 'SetStreamReadonly', data: { name: 's', partitions: [], readonly: false, atNs: '4' } },
    );
    const p = state.streams.get('s')!.partitions[0]!;
    expect(p.readonly).toBe(false);
    expect(p.readonlyTimestamps).toEqual({ firstNs: '3', latestNs: '4' });
  });
});

describe('applyProposal', () => {
  it('rejects a proposal whose expectations no longer hold, leaving the state unchanged', () => {
    const state = stateAfter(registerBroker('a'));
    const first = decide(createStream('s'), state);
    const second = decide(createStream('s'), state); // decided concurrently against the same state
    if (!first.ok || !second.ok) throw new Error('both decisions should pass');
    const afterFirst = applyProposal(state, { proposalId: '1', ...first.value }, 2);
    const afterSecond = applyProposal(afterFirst.state, { proposalId: '2', ...second.value }, 3);
    expect(afterSecond.outcome.kind).toBe('rejected');
    expect(afterSecond.state.streams).toBe(afterFirst.state.streams);
    expect(afterSecond.state.lastAppliedIndex).toBe(3);
  });
});
