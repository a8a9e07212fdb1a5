import { MetadataCommand } from '../../src/domain/metadata/metadata-commands';
import { applyProposal } from '../../src/domain/metadata/apply-proposal';
import { decide } from '../../src/domain/metadata/metadata-decide';
import { emptyMetadataState, MetadataState } from '../../src/domain/metadata/metadata-state';

/** Deterministic object mothers for metadata commands (docs/style.md "Tests": no faker). */
export const registerBroker = (id: string, port = 9292): MetadataCommand => ({
  type: 'RegisterBroker',
  data: { id, host: 'localhost', port },
});

export const createStream = (name: string, overrides: Partial<Extract<MetadataCommand, { type: 'CreateStream' }>['data']> = {}): MetadataCommand => ({
  type: 'CreateStream',
  data: {
    name,
    subject: `${name}-subject`,
    group: '',
    replicationFactor: 1,
    partitions: 1,
    config: {},
    creationTimestampNs: '1700000000000000001',
    namespace: 'liftbridge-default',
    ...overrides,
  },
});

/** Applies commands one by one as the controller would, failing loudly on a refusal. */
export function stateAfter(...commands: MetadataCommand[]): MetadataState {
  let state = emptyMetadataState();
  let index = 0;
  for (const command of commands) {
    const decision = decide(command, state);
    if (!decision.ok) throw new Error(`given step refused: ${JSON.stringify(decision.error)}`);
    state = applyProposal(state, { proposalId: `p${index}`, ...decision.value }, ++index).state;
  }
  return state;
}

export const joinGroup = (group: string, consumer: string, ...streams: string[]): MetadataCommand => ({
  type: 'JoinConsumerGroup',
  data: { group, consumer, streams },
});

export const leaveGroup = (group: string, consumer: string, expired = false): MetadataCommand => ({
  type: 'LeaveConsumerGroup',
  data: { group, consumer, expired },
});

export const deleteStream = (name: string): MetadataCommand => ({ type: 'DeleteStream', data: { name } });
