import { PartitionState } from '../../domain/partition/partition-state';

/**
 * Where a replica can get a good copy of a committed record it holds damaged (docs/replication.md
 * "Damaged records"): a follower from its leader (which holds every committed record); a leader from
 * another member of the ISR (every ISR member holds every committed record), by handing it the
 * leadership and then repairing as a follower. Null when there is no such replica (a replication
 * factor of 1, or an ISR of the leader alone): the damage is then reported, kept and never served.
 */
export function repairSourceFor(partition: PartitionState, self: string): 'leader' | 'isr-peer' | null {
  if (partition.replicas.length < 2) return null;
  if (partition.leader !== self) return partition.leader === '' ? null : 'leader';
  return partition.isr.some((id) => id !== self) ? 'isr-peer' : null;
}
