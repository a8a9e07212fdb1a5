import { assert, unreachable } from '../shared/assert';
import { ok, Result } from '../shared/result';
import { RegisterBroker, SetBrokerReachable } from '../metadata/metadata-commands';
import { MetadataError } from '../metadata/metadata-errors';
import { BrokerReachabilityChanged, BrokerRegistered, MetadataEvent } from '../metadata/metadata-events';
import { brokerRef, Decision, noDecision } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';

/**
 * The Cluster aggregate: the brokers that belong to the cluster and whether the controller hears
 * them. Each broker carries its own version, so changes to different brokers never conflict.
 * (Controlled shutdown spans brokers and partitions: see vacate-broker.ts.)
 */
export function decideCluster(command: RegisterBroker | SetBrokerReachable, state: MetadataState): Result<Decision, MetadataError> {
  switch (command.type) {
    case 'RegisterBroker': {
      const known = state.brokers.get(command.data.id);
      const same = known && known.reachable && known.host === command.data.host && known.port === command.data.port;
      // Registration is last-writer-wins: a broker re-registering with a new address simply replaces it.
      return ok(same ? noDecision : { events: [{ type: 'BrokerRegistered', data: { ...command.data } }], expectations: [] });
    }
    case 'SetBrokerReachable': {
      const known = state.brokers.get(command.data.id);
      if (!known || known.reachable === command.data.reachable) return ok(noDecision);
      return ok({
        events: [{ type: 'BrokerReachabilityChanged', data: { ...command.data } }],
        expectations: [{ aggregate: brokerRef(known.id), version: known.version }],
      });
    }
    default:
      return unreachable(command);
  }
}

export type ClusterEvent = BrokerRegistered | BrokerReachabilityChanged;

export const isClusterEvent = (event: MetadataEvent): event is ClusterEvent =>
  event.type === 'BrokerRegistered' || event.type === 'BrokerReachabilityChanged';

/** Folds a Cluster event; `index` (the entry's log index) becomes the broker's version. */
export function evolveCluster(state: MetadataState, event: ClusterEvent, index: number): MetadataState {
  const brokers = new Map(state.brokers);
  if (event.type === 'BrokerRegistered') {
    // (Re-)registering means the broker is running, so it is reachable.
    brokers.set(event.data.id, { ...event.data, reachable: true, version: index });
  } else {
    const broker = state.brokers.get(event.data.id);
    assert(broker !== undefined, `event refers to unknown broker ${event.data.id}`);
    brokers.set(broker.id, { ...broker, reachable: event.data.reachable, version: index });
  }
  return { ...state, brokers };
}
