import { MetadataState } from '../metadata/metadata-state';

export interface BrokerLoad {
  /** Replicas of non-paused partitions hosted by the broker. */
  partitions: number;
  /** Non-paused partitions the broker leads. */
  leaders: number;
}

/** Load per broker, in broker registration order (docs/cluster.md "Placement": counters follow applied entries). */
export function brokerLoads(state: MetadataState, options: { readonly reachableOnly?: boolean } = {}): Map<string, BrokerLoad> {
  const loads = new Map<string, BrokerLoad>();
  for (const broker of state.brokers.values()) {
    if (!options.reachableOnly || broker.reachable) loads.set(broker.id, { partitions: 0, leaders: 0 });
  }
  for (const stream of state.streams.values()) {
    for (const p of stream.partitions) {
      if (p.paused) continue;
      for (const r of p.replicas) {
        const load = loads.get(r);
        if (load) load.partitions++;
      }
      const leader = loads.get(p.leader);
      if (leader) leader.leaders++;
    }
  }
  return loads;
}

/** Least partition load first, ties keep registration order (a stable sort), first `count` ids. */
export function selectReplicas(loads: ReadonlyMap<string, BrokerLoad>, count: number): string[] {
  return [...loads.entries()]
    .map(([id, load], order) => ({ id, load: load.partitions, order }))
    .sort((a, b) => a.load - b.load || a.order - b.order)
    .slice(0, count)
    .map((e) => e.id);
}

/** Least leader load among `candidates`, ties keep the candidates' order. */
export function selectLeader(loads: ReadonlyMap<string, BrokerLoad>, candidates: readonly string[]): string {
  let best = candidates[0]!;
  let bestLoad = loads.get(best)?.leaders ?? 0;
  for (const id of candidates.slice(1)) {
    const load = loads.get(id)?.leaders ?? 0;
    if (load < bestLoad) {
      best = id;
      bestLoad = load;
    }
  }
  return best;
}
