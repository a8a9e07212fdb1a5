import { MetadataError } from '../../domain/metadata/metadata-errors';
import { AckError } from '../ports/message-transport.port';

/**
 * Every expected way an RPC can be refused, as data (style §4.7). The gRPC adapter maps each
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
  /** A CreateStream option asks for a feature this server does not have yet (stream-option-support.ts). */
  | { readonly kind: 'StreamOptionNotImplemented'; readonly option: string; readonly feature: string };
