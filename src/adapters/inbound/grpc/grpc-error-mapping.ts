import { status } from '@grpc/grpc-js';
import { ApplicationError } from '../../../application/errors/application-errors';
import { BrokerError } from '../../../application/errors/broker-errors';
import { MetadataTimeoutError } from '../../../application/metadata/metadata-service';
import { describeStartFailure } from '../../../application/partitions/partition-start-failures';
import { AckError } from '../../../application/ports/message-transport.port';
import { unreachable } from '../../../domain/shared/assert';

export interface StatusAnswer {
  readonly code: status;
  readonly message: string;
}

/**
 * What a use case threw, as the status to answer: a metadata change that did not commit in time is
 * the `MetadataTimeout` of the table (Go's answer); another `BrokerError` that says the request may
 * succeed if sent again (`retriable`: no metadata leader yet, a full proposal queue, NATS away) is
 * UNAVAILABLE, the code Liftbridge clients retry on; anything else is INTERNAL.
 */
export function thrownStatus(error: unknown): StatusAnswer {
  if (error instanceof MetadataTimeoutError) return toStatus({ kind: 'MetadataTimeout' });
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof BrokerError && error.retriable) return { code: status.UNAVAILABLE, message };
  return { code: status.INTERNAL, message };
}

/**
 * Every refusal → one gRPC status and message, in one table. Messages are Liftbridge's (docs/protocol.md) where
 * Liftbridge clients match on them; codes are Liftbridge's (go-liftbridge maps codes to errors).
 */
export function toStatus(error: ApplicationError): StatusAnswer {
  switch (error.kind) {
    case 'InvalidStreamName':
      return { code: status.INVALID_ARGUMENT, message: error.reason };
    case 'StreamNameReserved':
      return { code: status.INVALID_ARGUMENT, message: 'Stream is reserved' };
    case 'InvalidSubject':
      return { code: status.INVALID_ARGUMENT, message: error.reason };
    case 'InvalidPartitionCount':
      return { code: status.INVALID_ARGUMENT, message: `Invalid partitions ${error.partitions}: must be between 1 and ${error.max}` };
    case 'InvalidReplicationFactor':
      return { code: status.INVALID_ARGUMENT, message: `Invalid replicationFactor ${error.replicationFactor}, cluster size ${error.clusterSize}` };
    case 'InvalidStreamConfig':
      return { code: status.INVALID_ARGUMENT, message: `Invalid ${error.field}: ${error.reason}` };
    case 'StreamAlreadyExists':
      return { code: status.ALREADY_EXISTS, message: 'stream already exists' };
    case 'StreamNotFound':
      return { code: status.NOT_FOUND, message: 'stream does not exist' };
    case 'PartitionNotFound':
      return { code: status.NOT_FOUND, message: 'partition does not exist' };
    case 'NoBrokers':
      return { code: status.INTERNAL, message: 'no known brokers' };
    case 'LeaderGenerationMismatch':
      return { code: status.FAILED_PRECONDITION, message: `Leader generation mismatch, current leader: ${error.leader} epoch: ${error.leaderEpoch}` };
    case 'NoIsrCandidates':
      return { code: status.FAILED_PRECONDITION, message: 'No ISR candidates' };
    case 'NotAReplica':
      return { code: status.FAILED_PRECONDITION, message: `${error.replica} is not a replica of ${error.stream}/${error.partition}` };
    case 'BrokerUnreachable':
      return { code: status.FAILED_PRECONDITION, message: `broker ${error.broker} is unreachable` };
    case 'NoStreamProvided':
      return { code: status.INVALID_ARGUMENT, message: 'no stream provided' };
    case 'NoSuchStream':
      return { code: status.NOT_FOUND, message: `no such stream: ${error.stream}` };
    case 'NoSuchPartition':
      return { code: status.NOT_FOUND, message: `no such partition: ${error.partition}` };
    case 'PartitionReadonly':
      return { code: status.FAILED_PRECONDITION, message: `readonly partition: ${error.partition}` };
    case 'ConcurrencyControlNeedsAck':
      return { code: status.INVALID_ARGUMENT, message: 'stream with concurrency control must have AckPolicy set' };
    case 'InvalidAckPolicy':
      return { code: status.INVALID_ARGUMENT, message: `Unknown AckPolicy ${error.value}` };
    case 'SubscribePartitionUnknown':
      return { code: status.NOT_FOUND, message: 'No such partition' };
    case 'NotPartitionLeader':
      return { code: status.FAILED_PRECONDITION, message: 'Server not partition leader' };
    case 'PartitionMetadataNotLeader':
      return { code: status.FAILED_PRECONDITION, message: 'The request should be sent to partition leader' };
    case 'PartitionMetadataUnknown':
      return { code: status.NOT_FOUND, message: 'partition not found' };
    case 'ConsumerIdMissing':
      return { code: status.INVALID_ARGUMENT, message: 'Consumer id cannot be empty when group id is provided' };
    case 'ConsumerGroupsNotCompatibleWithIsrReads':
      return { code: status.INVALID_ARGUMENT, message: 'Consumer groups not compatible with ReadISRReplica' };
    case 'ConsumerNotAssigned':
      return { code: status.FAILED_PRECONDITION, message: 'Consumer is not currently assigned this partition' };
    case 'UnknownStartPosition':
      return { code: status.INVALID_ARGUMENT, message: `Unknown StartPosition ${error.value}` };
    case 'UnknownStopPosition':
      return { code: status.INVALID_ARGUMENT, message: `Unknown StopPosition ${error.value}` };
    case 'StopBeforeStart':
      return { code: status.INVALID_ARGUMENT, message: `Stop offset is before start offset: ${error.stop} < ${error.start}` };
    case 'StreamEmpty':
      return { code: status.RESOURCE_EXHAUSTED, message: 'Stream is empty' };
    case 'StopTimestampBeforeLog':
      return { code: status.INTERNAL, message: 'Stop timestamp is before the first message of the log' };
    case 'ResumeFailed':
      return { code: status.INTERNAL, message: `Failed to resume stream: ${error.reason}` };
    case 'AckTimeout':
      return { code: status.DEADLINE_EXCEEDED, message: 'timed out waiting for ack' };
    case 'AckRejected':
      return ackErrorStatus(error.ackError);
    case 'MetadataTimeout':
      return { code: status.INTERNAL, message: 'raft operation timed out' };
    case 'InvalidRequest':
      return { code: status.INVALID_ARGUMENT, message: error.reason };
    case 'PartitionsNotStarted': {
      const named = error.failures.map((f) => `${error.stream}/${f.partition} (${describeStartFailure(f)})`).join(', ');
      const more = error.count > error.failures.length ? ` and ${error.count - error.failures.length} more` : '';
      return {
        code: status.UNAVAILABLE,
        message: `stream ${error.stream} was ${error.action}, but ${error.count} of its partitions could not start on this server: ${named}${more}; they are retried, and listed in /readyz until they start`,
      };
    }
    case 'PartitionNotStarted':
      return {
        code: status.UNAVAILABLE,
        message: `partition ${error.stream}/${error.partition} could not start on this server: ${describeStartFailure(error)}; it is retried`,
      };
    case 'EncryptionUnavailable':
      // Go's answer when a stream's encryption handler cannot be built (docs/encryption.md).
      return { code: status.FAILED_PRECONDITION, message: `Failed on preconditions for stream's encryption handler: ${error.reason}` };
    case 'StreamOptionNotImplemented':
      return { code: status.INVALID_ARGUMENT, message: `${error.option}: ${error.feature} is not implemented yet` };
    // Consumer groups (docs/consumers.md "Errors"): Go's codes and messages, which clients match on.
    case 'MissingGroupField':
      return { code: status.INVALID_ARGUMENT, message: `No ${error.field} provided` };
    case 'ConsumerGroupNotFound':
      return { code: status.NOT_FOUND, message: 'consumer group does not exist' };
    case 'ConsumerAlreadyMember':
      return { code: status.FAILED_PRECONDITION, message: 'consumer is already a member of the consumer group' };
    case 'ConsumerNotMember':
      return { code: status.FAILED_PRECONDITION, message: 'consumer is not a member of the consumer group' };
    case 'GroupCoordinatorMismatch':
      return {
        code: status.FAILED_PRECONDITION,
        message: `Coordinator generation mismatch, current coordinator: ${error.coordinator} epoch: ${error.epoch}, got coordinator: ${error.reportedCoordinator} epoch: ${error.reportedEpoch}`,
      };
    case 'NoGroupCoordinatorCandidates':
      return { code: status.FAILED_PRECONDITION, message: 'No group coordinator candidates' };
    case 'NotGroupCoordinator':
      return { code: status.FAILED_PRECONDITION, message: 'broker is not the consumer group coordinator' };
    case 'GroupEpochMismatch':
      return { code: status.FAILED_PRECONDITION, message: 'client-provided group epoch differs from broker group epoch' };
    case 'ConsumerNotActive':
      return { code: status.UNKNOWN, message: 'consumer not active for server (no timer)' };
    default:
      return unreachable(error);
  }
}

/** docs/protocol.md "Publish": how a negative ack becomes the unary Publish's status. */
export function ackErrorStatus(ackError: AckError): StatusAnswer {
  switch (ackError) {
    case AckError.INCORRECT_OFFSET:
      return { code: status.UNKNOWN, message: 'incorrect expected offset' };
    case AckError.TOO_LARGE:
      return { code: status.INVALID_ARGUMENT, message: 'message exceeds max replication size' };
    case AckError.ENCRYPTION:
      return { code: status.INTERNAL, message: 'encryption failed on partition' };
    default:
      return { code: status.UNKNOWN, message: 'unknown error' };
  }
}
