import { ContainerModule } from 'inversify';
import { RaftAckLease } from '../../../application/cluster/ack-lease';
import type { PeerContact } from '../../../application/ports/peer-contact.port';
import { MetadataRaftGroup } from '../../../application/ports/metadata-raft-group.port';
import { RaftMetadataLog } from '../../../application/metadata/raft-metadata-log';
import { ClusterChannel } from '../../../application/ports/cluster-channel.port';
import { ReplicationTransport } from '../../../application/ports/replication-transport.port';
import { TOKENS } from '../../../application/tokens';

/** The metadata log replicated by Raft, seen as the `MetadataLog` port and as the group the cluster services steer. */
export function raftGroupOf(log: RaftMetadataLog): MetadataRaftGroup {
  return {
    get isLeader() {
      return log.isLeader;
    },
    leadership$: log.leadership$,
    leaderId: () => log.status()?.leaderId ?? null,
    voters: () => log.voters(),
    addVoter: (serverId) => log.addVoter(serverId),
    campaign: () => log.driver.campaign(),
    transferLeadership: (to) => log.transferLeadership(to),
  };
}

/** Clustered metadata and partition replication: the Raft metadata log and the channels to the other servers. */
export const clusterModule = (
  log: RaftMetadataLog,
  channel: ClusterChannel,
  replication: ReplicationTransport,
  contact: PeerContact,
): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.PeerContact).toConstantValue(contact);
    bind(TOKENS.AckLease).to(RaftAckLease).inSingletonScope();
    bind(TOKENS.ReplicationTransport).toConstantValue(replication);
    bind(TOKENS.MetadataLog).toConstantValue(log);
    bind(TOKENS.MetadataRaftGroup).toConstantValue(raftGroupOf(log));
    bind(TOKENS.ClusterChannel).toConstantValue(channel);
  });
