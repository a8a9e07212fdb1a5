import { MetadataProposal } from '../../../src/domain/metadata/metadata-proposal';
import { decide } from '../../../src/domain/metadata/metadata-decide';
import { decodeMetadataProposal, encodeMetadataProposal, MetadataProposalDecodeError } from '../../../src/domain/metadata/schema/proposal-codec';
import { GroupCommand } from '../../../src/domain/metadata/metadata-commands';
import { createStream, joinGroup, leaveGroup, registerBroker, stateAfter } from '../../support/metadata-mothers';

const decided = (): MetadataProposal => {
  const state = stateAfter(registerBroker('a'), createStream('orders', { partitions: 2, config: { retentionMaxMessages: 5, encryption: false } }));
  const result = decide({ type: 'PauseStream', data: { name: 'orders', partitions: [], resumeAll: true, atNs: '17' } }, state);
  if (!result.ok) throw new Error(result.error.kind);
  return { proposalId: 'a:boot:1', ...result.value };
};

describe('metadata proposal codec (docs/raft.md "Metadata schema")', () => {
  it('round-trips a proposal with typed expectations', () => {
    const proposal = decided();
    expect(proposal.expectations.map((e) => e.aggregate.kind)).toEqual(['stream', 'partition', 'partition']);
    expect(decodeMetadataProposal(encodeMetadataProposal(proposal))).toEqual(proposal);
    const created = decide(createStream('logs', { config: { retentionMaxMessages: 5 } }), stateAfter(registerBroker('a')));
    if (!created.ok) throw new Error(created.error.kind);
    const withCreate = { proposalId: 'x', ...created.value };
    expect(decodeMetadataProposal(encodeMetadataProposal(withCreate))).toEqual(withCreate);
  });

  it('round-trips every consumer-group event with its group expectation', () => {
    const state = stateAfter(registerBroker('a'), registerBroker('b'), createStream('orders'), joinGroup('g', 'c1', 'orders'));
    const group = state.groups.get('g')!;
    const commands = [
      joinGroup('h', 'c1', 'orders'),
      joinGroup('g', 'c2', 'orders'),
      leaveGroup('g', 'c1', true),
      { type: 'ChangeGroupCoordinator', data: { group: 'g', coordinator: group.coordinator, epoch: group.epoch } },
    ] as GroupCommand[];
    for (const command of commands) {
      const result = decide(command, state);
      if (!result.ok) throw new Error(result.error.kind);
      const proposal = { proposalId: command.type, ...result.value };
      expect(proposal.expectations[0]!.aggregate).toEqual({ kind: 'group', group: command.data.group });
      expect(decodeMetadataProposal(encodeMetadataProposal(proposal))).toEqual(proposal);
    }
  });

  it('reads schema 1 entries: string aggregates keep the rules they were decided under', () => {
    const v1 = JSON.stringify({
      v: 1,
      p: {
        proposalId: 'a:1',
        events: [{ type: 'StreamDeleted', data: { name: 'a:b' } }],
        expectations: [
          { aggregate: 'stream:a:b', version: 7 },
          { aggregate: 'broker:x', version: 0 },
          { aggregate: 'stream:new', version: 'absent' },
        ],
      },
    });
    expect(decodeMetadataProposal(v1).expectations).toEqual([
      { aggregate: { kind: 'stream-v1', stream: 'a:b' }, version: 7 },
      { aggregate: { kind: 'broker-v1', broker: 'x' }, version: 0 },
      { aggregate: { kind: 'stream-v1', stream: 'new' }, version: 'absent' },
    ]);
  });

  const valid = JSON.parse(encodeMetadataProposal(decided())) as { v: number; p: Record<string, unknown> };
  const withP = (patch: Record<string, unknown>): string => JSON.stringify({ ...valid, p: { ...valid.p, ...patch } });
  const firstEvent = (valid.p.events as Record<string, unknown>[])[0]!;

  it.each<[string, string, RegExp]>([
    ['not JSON', '{oops', /not JSON/],
    ['a newer schema version', JSON.stringify({ ...valid, v: 3 }), /unknown schema version 3/],
    ['no proposal id', withP({ proposalId: 5 }), /p\.proposalId is not a string/],
    ['an unknown event type', withP({ events: [{ type: 'StreamRenamed', data: {} }] }), /p\.events\[0\]\.type "StreamRenamed" is not a metadata event/],
    ['an event missing a field', withP({ events: [{ ...firstEvent, data: { stream: 'orders', partition: 0, atNs: '1' } }] }), /p\.events\[0\]\.data\.resumeAll is not a boolean/],
    ['an event with an unknown field', withP({ events: [{ ...firstEvent, data: { ...(firstEvent.data as object), extra: 1 } }] }), /unknown field extra/],
    ['a negative partition', withP({ events: [{ ...firstEvent, data: { ...(firstEvent.data as object), partition: -1 } }] }), /partition is not a non-negative safe integer/],
    ['an unknown aggregate kind', withP({ expectations: [{ aggregate: { kind: 'topic', stream: 'x' }, version: 1 }] }), /aggregate\.kind "topic" is not an aggregate/],
    ['a string aggregate in schema 2', withP({ expectations: [{ aggregate: 'stream:x', version: 1 }] }), /aggregate is not an object/],
    ['a bad version', withP({ expectations: [{ aggregate: { kind: 'stream', stream: 'x' }, version: 'old' }] }), /version is not a non-negative safe integer/],
  ])('refuses %s, naming the field', (_what, data, message) => {
    expect(() => decodeMetadataProposal(data)).toThrow(MetadataProposalDecodeError);
    expect(() => decodeMetadataProposal(data)).toThrow(message);
  });
});
