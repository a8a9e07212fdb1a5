/** Why a metadata command was refused: plain data, so every node reaches the same answer. */
export type MetadataError =
  | { readonly kind: 'InvalidStreamName'; readonly reason: string }
  | { readonly kind: 'StreamNameReserved'; readonly stream: string }
  | { readonly kind: 'InvalidSubject'; readonly subject: string; readonly reason: string }
  | { readonly kind: 'InvalidPartitionCount'; readonly partitions: number; readonly max: number }
  | { readonly kind: 'InvalidReplicationFactor'; readonly replicationFactor: number; readonly clusterSize: number }
  | { readonly kind: 'InvalidStreamConfig'; readonly field: string; readonly reason: string }
  | { readonly kind: 'StreamAlreadyExists'; readonly stream: string }
  | { readonly kind: 'StreamNotFound'; readonly stream: string }
  | { readonly kind: 'PartitionNotFound'; readonly stream: string; readonly partition: number }
  | { readonly kind: 'NoBrokers' }
  /** An ISR change from a leader that is no longer the partition's leader (docs/replication.md "ISR changes"). */
  | { readonly kind: 'LeaderGenerationMismatch'; readonly stream: string; readonly partition: number; readonly leader: string; readonly leaderEpoch: number }
  /** No in-sync replica can take over (docs/replication.md "Failover": no unclean election). */
  | { readonly kind: 'NoIsrCandidates'; readonly stream: string; readonly partition: number }
  | { readonly kind: 'NotAReplica'; readonly stream: string; readonly partition: number; readonly replica: string }
  /** No ISR place for a broker recorded unreachable, e.g. one shutting down (Kafka KIP-841). */
  | { readonly kind: 'BrokerUnreachable'; readonly broker: string }
  /** A consumer-group request without a required value (docs/consumers.md "Errors": `No groupId provided`, ...). */
  | { readonly kind: 'MissingGroupField'; readonly field: 'groupId' | 'consumerId' | 'streams' | 'coordinator' }
  | { readonly kind: 'ConsumerGroupNotFound'; readonly group: string }
  | { readonly kind: 'ConsumerAlreadyMember'; readonly group: string; readonly consumer: string }
  | { readonly kind: 'ConsumerNotMember'; readonly group: string; readonly consumer: string }
  /** A coordinator report or change about a coordinator or epoch that is no longer the group's. */
  | {
      readonly kind: 'GroupCoordinatorMismatch';
      readonly group: string;
      readonly coordinator: string;
      readonly epoch: number;
      readonly reportedCoordinator: string;
      readonly reportedEpoch: number;
    }
  /** A request made at a group epoch that is no longer the group's (an assignment fetch, an expiry). */
  | { readonly kind: 'GroupEpochMismatch'; readonly group: string }
  /** No broker other than the failed coordinator can coordinate the group. */
  | { readonly kind: 'NoGroupCoordinatorCandidates'; readonly group: string };
