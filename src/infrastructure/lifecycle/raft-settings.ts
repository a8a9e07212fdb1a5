import type { RaftConfig } from '../../domain/consensus/raft';
import type { Prng } from '../../domain/shared/prng';
import type { RaftMetadataLogOptions } from '../../application/metadata/raft-metadata-log';

/**
 * Timing and bounds of the metadata Raft group (docs/cluster.md "Timing"). A tick is 100 ms; a
 * follower campaigns after 1-2 s without a leader (hashicorp/raft's 1 s election timeout, which
 * Liftbridge uses), the leader heartbeats every 100 ms, and CheckQuorum makes a leader cut off from
 * its quorum step down after 1 s.
 */
export const RAFT_TICK_MS = 100;
export const RAFT_ELECTION_TICKS = 10;
export const RAFT_HEARTBEAT_TICKS = 1;

export function metadataRaftSettings(
  serverId: string,
  voters: readonly string[],
  extra: { readonly snapshotThreshold: number; readonly prng: Prng },
): { config: RaftConfig; options: RaftMetadataLogOptions } {
  return {
    config: {
      id: serverId,
      voters,
      electionTicks: RAFT_ELECTION_TICKS,
      heartbeatTicks: RAFT_HEARTBEAT_TICKS,
      preVote: true,
      checkQuorum: true,
      prng: extra.prng,
      appendEntriesMax: 256,
      inflightMessagesMax: 64,
      // A CreateStream of the maximum 4096 partitions is about 1 MB of JSON; NATS carries 1 MB by default.
      entryBytesMax: 2 * 1024 * 1024,
      uncommittedEntriesMax: 4096,
      committedEntriesPerReadyMax: 256,
    },
    options: {
      tickMs: RAFT_TICK_MS,
      messagesQueuedMax: 10_000,
      proposalsQueuedMax: 1024,
      proposeTimeoutMs: 5000,
      snapshotThreshold: extra.snapshotThreshold,
    },
  };
}
