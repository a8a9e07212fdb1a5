import * as grpc from '@grpc/grpc-js';
import { PublishAsyncErrorCode } from '../../../src/protocol/api-types';
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
  NotAuthorizedError,
  NotLeaderError,
  PublishError,
  ReadonlyPartitionError,
  StreamExistsError,
  TlsHandshakeError,
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
    [grpc.status.UNKNOWN, 'The client is not authorized to call Publish on resource foo', 'publish', NotAuthorizedError, false],
    [grpc.status.UNKNOWN, 'api: Failed to retrieve client ID', 'other', NotAuthorizedError, false],
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
    [PublishAsyncErrorCode.PERMISSION_DENIED, 'The client is not authorized to call Publish on resource foo', NotAuthorizedError],
    [PublishAsyncErrorCode.INTERNAL, 'x', PublishError],
    [PublishAsyncErrorCode.UNKNOWN, 'unknown error', PublishError],
  ] as const)('%i %j → %p', (code, message, type) => {
    const error = mapAsyncError(code, message);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });
});

describe('TLS handshake failures (grpc-js UNAVAILABLE) in plain words', () => {
  const unavailable = (lastError: string): grpc.ServiceError => serviceError(grpc.status.UNAVAILABLE, `No connection established. Last error: ${lastError}. Resolution note: `);

  it.each([
    ['Error: unable to verify the first certificate', "the server's certificate cannot be verified with the CA given (tls.ca) (unable to verify the first certificate)"],
    ['Error: self-signed certificate in certificate chain', "the server's certificate cannot be verified with the CA given (tls.ca) (self-signed certificate in certificate chain)"],
    [
      "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: ",
      "the server's certificate does not name the host connected to (Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list)",
    ],
    [
      '801C:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n (2026-12-07T13:13:07.861Z)',
      'the server requires a client certificate (give tls.cert and tls.key) (tlsv13 alert certificate required)',
    ],
    ['Error: 801C:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:350:\n', 'the server does not speak TLS (a plaintext server?) (wrong version number)'],
  ])('%j', (lastError, explanation) => {
    const mapped = mapServiceError(unavailable(lastError)) as LiftbridgeError;
    expect(mapped).toBeInstanceOf(TlsHandshakeError);
    expect(mapped).toBeInstanceOf(BrokerUnavailableError); // other servers are still tried
    expect(mapped.retriable).toBe(true);
    expect(mapped.message).toBe(`TLS handshake failed: ${explanation}`);
  });

  it('leaves other connection failures as they are', () => {
    const mapped = mapServiceError(unavailable('Error: connect ECONNREFUSED 127.0.0.1:9292'));
    expect(mapped.constructor).toBe(BrokerUnavailableError);
  });
});
