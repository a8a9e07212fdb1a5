import type { MetadataRaftGroup } from './metadata-raft-group';

/**
 * Whether this server may acknowledge records as a partition leader right now. A leader that was
 * paused (SIGSTOP, a long GC, a frozen VM) may have been replaced while it slept; until it hears
 * from the metadata group again it must not acknowledge anything, even LEADER acks from its own log.
 */
export interface AckLease {
  holds(): boolean;
}

export const ALWAYS_HELD: AckLease = { holds: () => true };

/**
 * The lease of a metadata group member (issue 4): a follower holds it while it heard the Raft
 * leader within `leaseMs`, the leader while it heard a quorum within `leaseMs`, a group of one
 * always. Partition leaders are replaced only after `clustering.broker.timeout` of silence, which
 * must exceed `leaseMs`: by the time a new leader exists, the old one's lease has run out.
 */
export class RaftAckLease implements AckLease {
  constructor(
    private readonly self: string,
    private readonly group: MetadataRaftGroup,
    private readonly silenceMs: (peer: string) => number,
    private readonly leaseMs: number,
  ) {}

  holds(): boolean {
    const voters = this.group.voters();
    if (voters.length === 1 && voters[0] === this.self) return true;
    if (this.group.isLeader) {
      let heard = voters.includes(this.self) ? 1 : 0;
      for (const v of voters) if (v !== this.self && this.silenceMs(v) <= this.leaseMs) heard++;
      return heard > voters.length / 2;
    }
    const leader = this.group.leaderId();
    return leader !== null && this.silenceMs(leader) <= this.leaseMs;
  }
}
