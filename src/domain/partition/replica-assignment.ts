import { MetadataState } from '../metadata/metadata-state';
import { StreamState } from '../stream/stream-state';

export interface BrokerLoad {
  /** Replicas of non-paused partitions hosted by the broker. */
  partitions: number;
  /** Non-paused partitions the broker leads. */
  leaders: number;
}

/**
 * Load per broker, in broker registration order (docs/cluster.md "Placement": counters follow
 * applied entries). Summed from each stream's own counts, which are kept per StreamState: a state
 * is never changed in place (a changed stream is a new object), so only the streams an entry
 * changed are counted again. Counting every partition at each CreateStream cost 4 ms at 10,000
 * partitions (docs/benchmarks.md "Partition scale").
 */
export function brokerLoads(state: MetadataState, options: { readonly reachableOnly?: boolean } = {}): Map<string, BrokerLoad> {
  const loads = new Map<string, BrokerLoad>();
  for (const broker of state.brokers.values()) {
    if (!options.reachableOnly || broker.reachable) loads.set(broker.id, { partitions: 0, leaders: 0 });
  }
  for (const stream of state.streams.values()) {
    for (const [id, partitions, leaders] of loadsOfStream(stream)) {
      const load = loads.get(id);
      if (load) {
        load.partitions += partitions;
        load.leaders += leaders;
      }
    }
  }
  return loads;
}

/** One stream's replicas and leaderships of non-paused partitions, per broker id. */
type StreamLoads = readonly (readonly [id: string, partitions: number, leaders: number])[];

const streamLoads = new WeakMap<StreamState, StreamLoads>();

function loadsOfStream(stream: StreamState): StreamLoads {
  const known = streamLoads.get(stream);
  if (known !== undefined) return known;
  const counts = new Map<string, BrokerLoad>();
  const of = (id: string): BrokerLoad => {
    let load = counts.get(id);
    if (load === undefined) counts.set(id, (load = { partitions: 0, leaders: 0 }));
    return load;
  };
  for (const p of stream.partitions) {
    if (p.paused) continue;
    for (const r of p.replicas) of(r).partitions++;
    of(p.leader).leaders++;
  }
  const loads: StreamLoads = [...counts].map(([id, load]) => [id, load.partitions, load.leaders] as const);
  streamLoads.set(stream, loads);
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
