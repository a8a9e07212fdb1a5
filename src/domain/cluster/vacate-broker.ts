import { ok, Result } from '../shared/result';
import { VacateBroker } from '../metadata/metadata-commands';
import { MetadataError } from '../metadata/metadata-errors';
import { MetadataEvent } from '../metadata/metadata-events';
import { brokerRef, Expectation, noDecision, partitionRef, Decision } from '../metadata/metadata-proposal';
import { MetadataState } from '../metadata/metadata-state';
import { leaderChangedAway } from '../partition/partition-decide';
import { PartitionState } from '../partition/partition-state';
import { brokerLoads, selectLeader } from '../partition/replica-assignment';

/**
 * Controlled shutdown (docs/cluster.md): the broker leaves placement, its leaderships and its ISR
 * memberships in one entry, so it expects the broker and every partition it changes. Items of an
 * epoch that is over, or that cannot move, are skipped.
 */
export function decideVacate(command: VacateBroker, state: MetadataState): Result<Decision, MetadataError> {
  const d = command.data;
  const broker = state.brokers.get(d.broker);
  if (!broker) return ok(noDecision);
  const events: MetadataEvent[] = [];
  const touched: Expectation[] = [];
  if (broker.reachable) events.push({ type: 'BrokerReachabilityChanged', data: { id: broker.id, reachable: false, atNs: d.atNs } });
  const partitionAt = (ref: { stream: string; partition: number; leaderEpoch: number }): PartitionState | null => {
    const p = state.streams.get(ref.stream)?.partitions[ref.partition];
    return p && p.leaderEpoch === ref.leaderEpoch && !p.paused ? p : null;
  };
  const change = (p: PartitionState, event: MetadataEvent): void => {
    events.push(event);
    touched.push({ aggregate: partitionRef(p.stream, p.id), version: p.epoch });
  };
  // New leaders spread by leader load, counting the ones chosen so far.
  const loads = brokerLoads(state);
  for (const ref of d.leads) {
    const p = partitionAt(ref);
    if (!p || p.leader !== broker.id) continue;
    const candidates = p.isr.filter((r) => r !== broker.id && state.brokers.get(r)?.reachable === true);
    if (candidates.length === 0) continue;
    const leader = selectLeader(loads, candidates);
    loads.get(leader)!.leaders++;
    change(p, leaderChangedAway(p, leader));
  }
  for (const ref of d.follows) {
    const p = partitionAt(ref);
    if (!p || p.leader === broker.id || !p.isr.includes(broker.id) || p.isr.length - 1 < ref.isrSizeMin) continue;
    change(p, { type: 'IsrShrunk', data: { stream: ref.stream, partition: ref.partition, replica: broker.id } });
  }
  if (events.length === 0) return ok(noDecision);
  return ok({ events, expectations: [{ aggregate: brokerRef(broker.id), version: broker.version }, ...dedupe(touched)] });
}

/** A partition named twice (led and followed in one request) is expected once. */
function dedupe(expectations: readonly Expectation[]): Expectation[] {
  const seen = new Set<string>();
  return expectations.filter((e) => {
    const key = JSON.stringify(e.aggregate);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
