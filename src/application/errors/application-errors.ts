import { MetadataError } from '../../domain/metadata/metadata-errors';
import { AckError } from '../ports/message-transport.port';

/**
 * Every expected way an RPC can be refused, as data (docs/style.md "Errors"). The gRPC adapter maps each
 * `kind` to one status code and message in one table (grpc-error-mapping.ts).
 */
export type ApplicationError =
  | MetadataError
  | { readonly kind: 'NoStreamProvided' }
  | { readonly kind: 'NoSuchStream'; readonly stream: string }
  | { readonly kind: 'NoSuchPartition'; readonly partition: number }
  | { readonly kind: 'PartitionReadonly'; readonly partition: number }
  | { readonly kind: 'ConcurrencyControlNeedsAck' }
  | { readonly kind: 'InvalidAckPolicy'; readonly value: number }
  | { readonly kind: 'SubscribePartitionUnknown' }
  | { readonly kind: 'NotPartitionLeader' }
  | { readonly kind: 'PartitionMetadataNotLeader' }
  | { readonly kind: 'PartitionMetadataUnknown' }
  | { readonly kind: 'ConsumerIdMissing' }
  | { readonly kind: 'ConsumerGroupsNotCompatibleWithIsrReads' }
  /** A subscriber of the same group with a higher epoch holds the partition (docs/consumers.md "Fencing"). */
  | { readonly kind: 'ConsumerNotAssigned' }
  | { readonly kind: 'UnknownStartPosition'; readonly value: number }
  | { readonly kind: 'UnknownStopPosition'; readonly value: number }
  | { readonly kind: 'StopBeforeStart'; readonly stop: number; readonly start: number }
  | { readonly kind: 'StreamEmpty' }
  | { readonly kind: 'StopTimestampBeforeLog' }
  | { readonly kind: 'ResumeFailed'; readonly reason: string }
  | { readonly kind: 'AckTimeout' }
  | { readonly kind: 'AckRejected'; readonly ackError: AckError }
  | { readonly kind: 'MetadataTimeout' }
  | { readonly kind: 'InvalidRequest'; readonly reason: string }
  /**
   * The stream was created (or resumed) in the metadata, but partitions this server should run
   * could not start (their log could not open): they are retried and listed in /readyz.
   */
  | {
      readonly kind: 'PartitionsNotStarted';
      readonly stream: string;
      readonly action: 'created' | 'resumed';
      /** The first few failures, and how many there are. */
      readonly failures: readonly { readonly partition: number; readonly code: string; readonly message: string }[];
      readonly count: number;
    }
  /** This server should run the partition (as its leader, for publishes) and could not start it: asked of it, it answers this at once. */
  | { readonly kind: 'PartitionNotStarted'; readonly stream: string; readonly partition: number; readonly code: string; readonly message: string }
  /** Encryption was asked for (by the stream or `streams.encryption`) and this server has no usable master key. */
  | { readonly kind: 'EncryptionUnavailable'; readonly reason: string }
  /** An assignment request reached a server that does not coordinate the group (docs/consumers.md "Consumer groups"). */
  | { readonly kind: 'NotGroupCoordinator'; readonly group: string }
  /** The coordinator runs no liveness timer for this member (it became coordinator as the member joined, say). */
  | { readonly kind: 'ConsumerNotActive'; readonly group: string; readonly consumer: string }
  /** A CreateStream option asks for a feature this server does not have yet (stream-option-support.ts). */
  | { readonly kind: 'StreamOptionNotImplemented'; readonly option: string; readonly feature: string };
