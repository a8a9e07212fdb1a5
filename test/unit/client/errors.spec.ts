import * as grpc from '@grpc/grpc-js';
import { PublishAsyncErrorCode } from '../../../src/adapters/codec/api-types';
import {
  AckTimeoutError,
  BrokerUnavailableError,
  IncorrectOffsetError,
  InvalidArgumentError,
  LiftbridgeError,
  mapAsyncError,
  mapServiceError,
  NoSuchPartitionError,
  NoSuchStreamError,
  NotLeaderError,
  PublishError,
  ReadonlyPartitionError,
  StreamExistsError,
} from '../../../src/client/errors';

const serviceError = (code: grpc.status, details: string): grpc.ServiceError =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new grpc.Metadata() });

describe('mapServiceError', () => {
  it.each([
    [grpc.status.ALREADY_EXISTS, 'stream already exists', 'create', StreamExistsError, false],
    [grpc.status.NOT_FOUND, 'stream does not exist', 'delete', NoSuchStreamError, false],
    [grpc.status.NOT_FOUND, 'no such stream: x', 'publish', NoSuchStreamError, false],
    [grpc.status.NOT_FOUND, 'no such partition: 3', 'publish', NoSuchPartitionError, false],
    [grpc.status.NOT_FOUND, 'partition does not exist', 'pause', NoSuchPartitionError, false],
    [grpc.status.NOT_FOUND, 'partition not found', 'partition-metadata', NoSuchPartitionError, false],
    [grpc.status.NOT_FOUND, 'No such partition', 'subscribe', NoSuchPartitionError, false],
    [grpc.status.FAILED_PRECONDITION, 'readonly partition: 0', 'publish', ReadonlyPartitionError, false],
    [grpc.status.FAILED_PRECONDITION, 'Server not partition leader', 'subscribe', NotLeaderError, true],
    [grpc.status.FAILED_PRECONDITION, 'The request should be sent to partition leader', 'partition-metadata', NotLeaderError, true],
    [grpc.status.INVALID_ARGUMENT, 'Name cannot be empty', 'create', InvalidArgumentError, false],
    [grpc.status.UNKNOWN, 'incorrect expected offset', 'publish', IncorrectOffsetError, false],
    [grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded', 'publish', AckTimeoutError, true],
    [grpc.status.UNAVAILABLE, 'No connection established', 'other', BrokerUnavailableError, true],
  ] as const)('code %i %j on %s → %p', (code, details, context, type, retriable) => {
    const original = serviceError(code, details);
    const mapped = mapServiceError(original, context) as LiftbridgeError;
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.code).toBe(code);
    expect(mapped.retriable).toBe(retriable);
    expect(mapped.message).toBe(details);
    expect(mapped.cause).toBe(original);
    expect(mapped.name).toBe(type.name);
  });

  it('keeps other codes as a plain LiftbridgeError and passes non-gRPC errors through', () => {
    const mapped = mapServiceError(serviceError(grpc.status.INTERNAL, 'boom')) as LiftbridgeError;
    expect(mapped.constructor).toBe(LiftbridgeError);
    expect(mapped.code).toBe(grpc.status.INTERNAL);
    const plain = new Error('x');
    expect(mapServiceError(plain)).toBe(plain);
  });
});

describe('mapAsyncError', () => {
  it.each([
    [PublishAsyncErrorCode.NOT_FOUND, 'no such partition: 4', NoSuchPartitionError],
    [PublishAsyncErrorCode.NOT_FOUND, 'no such stream: s', NoSuchStreamError],
    [PublishAsyncErrorCode.READONLY, 'readonly partition: 0', ReadonlyPartitionError],
    [PublishAsyncErrorCode.INCORRECT_OFFSET, 'incorrect expected offset', IncorrectOffsetError],
    [PublishAsyncErrorCode.BAD_REQUEST, 'message exceeds max replication size', InvalidArgumentError],
    [PublishAsyncErrorCode.PERMISSION_DENIED, 'denied', PublishError],
    [PublishAsyncErrorCode.INTERNAL, 'x', PublishError],
    [PublishAsyncErrorCode.UNKNOWN, 'unknown error', PublishError],
  ] as const)('%i %j → %p', (code, message, type) => {
    const error = mapAsyncError(code, message);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });
});
