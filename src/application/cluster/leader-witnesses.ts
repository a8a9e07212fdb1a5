import { partitionKey, PartitionRef } from '../../domain/shared/ids';

/**
 * The controller's count of followers reporting a silent partition leader (docs/replication.md "Failover"): per
 * partition, who reported which leader generation and when. A report stays valid for the leader
 * timeout; a newer generation (another leader or epoch) starts over. In memory only: a new
 * controller starts with none, and followers report again within the timeout.
 */
export class LeaderWitnesses {
  private readonly byPartition = new Map<string, { readonly ref: PartitionRef; readonly leader: string; readonly leaderEpoch: number; readonly reportedAtMs: Map<string, number> }>();

  constructor(private readonly validForMs: number) {}

  /**
   * Records that `replica` reported `leader` at `leaderEpoch`; true once more than half of the
   * other ISR members (`isrSize - 1`, at least one) reported within the timeout, as Liftbridge
   * does (`witnesses > (|ISR| - 1) / 2`): ISR 3 needs both followers, ISR 2 its one follower.
   */
  record(ref: PartitionRef, report: { readonly replica: string; readonly leader: string; readonly leaderEpoch: number }, isrSize: number, nowMs: number): boolean {
    const key = partitionKey(ref);
    let entry = this.byPartition.get(key);
    if (!entry || entry.leader !== report.leader || entry.leaderEpoch !== report.leaderEpoch) {
      entry = { ref: { stream: ref.stream, partition: ref.partition }, leader: report.leader, leaderEpoch: report.leaderEpoch, reportedAtMs: new Map() };
      this.byPartition.set(key, entry);
    }
    entry.reportedAtMs.set(report.replica, nowMs);
    for (const [replica, at] of entry.reportedAtMs) if (nowMs - at > this.validForMs) entry.reportedAtMs.delete(replica);
    return entry.reportedAtMs.size > Math.floor((isrSize - 1) / 2);
  }

  /** Witnesses currently counted for `key` (metrics, logs, tests). */
  count(ref: PartitionRef): number {
    return this.byPartition.get(partitionKey(ref))?.reportedAtMs.size ?? 0;
  }

  forget(ref: PartitionRef): void {
    this.byPartition.delete(partitionKey(ref));
  }

  /** Drops the partitions `keep` says no longer matter (deleted, or led by another generation). */
  prune(keep: (ref: PartitionRef, leader: string, leaderEpoch: number) => boolean): void {
    for (const [key, entry] of this.byPartition) if (!keep(entry.ref, entry.leader, entry.leaderEpoch)) this.byPartition.delete(key);
  }

  clear(): void {
    this.byPartition.clear();
  }
}
