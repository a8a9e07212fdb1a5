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
  | { readonly kind: 'NoBrokers' };
