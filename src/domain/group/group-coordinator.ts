import { MetadataState } from '../metadata/metadata-state';

/**
 * Groups coordinated per reachable broker, in broker registration order: a coordinator's load
 * (docs/consumers.md "Coordinator"). Unreachable brokers are left out, as they are for new
 * replicas: a coordinator nobody hears would only expire its members.
 */
export function coordinatorLoads(state: MetadataState): Map<string, number> {
  const loads = new Map<string, number>();
  for (const broker of state.brokers.values()) if (broker.reachable) loads.set(broker.id, 0);
  for (const group of state.groups.values()) {
    const load = loads.get(group.coordinator);
    if (load !== undefined) loads.set(group.coordinator, load + 1);
  }
  return loads;
}

/** The least-loaded broker other than `excluded`, ties by registration order; undefined when there is none. */
export function selectCoordinator(state: MetadataState, excluded?: string): string | undefined {
  let best: string | undefined;
  let bestLoad = Infinity;
  for (const [id, load] of coordinatorLoads(state)) {
    if (id !== excluded && load < bestLoad) {
      best = id;
      bestLoad = load;
    }
  }
  return best;
}
