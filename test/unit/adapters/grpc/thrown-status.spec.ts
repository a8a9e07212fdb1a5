import { status } from '@grpc/grpc-js';
import { thrownStatus, toStatus } from '../../../../src/adapters/inbound/grpc/grpc-error-mapping';
import { BrokerError, NatsUnavailableError, StorageIoError } from '../../../../src/application/errors/broker-errors';
import { MetadataTimeoutError } from '../../../../src/application/metadata/metadata-service';
import { NotMetadataLeaderError } from '../../../../src/application/ports/metadata-log.port';

describe('what a use case throws, as a gRPC status', () => {
  it('a metadata change that did not commit in time answers as the table says (Go: INTERNAL "raft operation timed out")', () => {
    expect(thrownStatus(new MetadataTimeoutError(5000))).toEqual(toStatus({ kind: 'MetadataTimeout' }));
    expect(thrownStatus(new MetadataTimeoutError(5000))).toEqual({ code: status.INTERNAL, message: 'raft operation timed out' });
  });

  it.each([
    ['no metadata leader', new NotMetadataLeaderError(null)],
    ['metadata moved under the request', new BrokerError('metadata changed concurrently, retry the request', { retriable: true })],
    ['NATS away', new NatsUnavailableError('NATS connection closed', { retriable: true })],
    ['a full disk (the server retries by itself)', new StorageIoError('no space left on device', 'ENOSPC')],
  ])('a retriable error (%s) is UNAVAILABLE, which clients retry, with its message', (_what, error) => {
    expect(thrownStatus(error)).toEqual({ code: status.UNAVAILABLE, message: error.message });
  });

  it('anything else is INTERNAL with its message', () => {
    expect(thrownStatus(new BrokerError('broken'))).toEqual({ code: status.INTERNAL, message: 'broken' });
    expect(thrownStatus(new TypeError('x is undefined'))).toEqual({ code: status.INTERNAL, message: 'x is undefined' });
    expect(thrownStatus('a string')).toEqual({ code: status.INTERNAL, message: 'a string' });
  });
});
