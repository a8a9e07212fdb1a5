import { AckPolicy, StartPosition, StopPosition } from '../../../src/protocol/api-types';
import { toPublishRequest } from '../../../src/client/publish-request';
import { toBuffer, toCreateStreamRequest, toSubscribeRequest } from '../../../src/client/types';

describe('toCreateStreamRequest', () => {
  it('defaults to 1 partition, replication factor 1, no group, and leaves unset options absent', () => {
    expect(toCreateStreamRequest('s', 'subj')).toEqual({ name: 's', subject: 'subj', group: '', replicationFactor: 1, partitions: 1 });
  });

  it('wraps every option in its nullable wrapper, milliseconds as bigint', () => {
    const request = toCreateStreamRequest('s', 'subj', {
      partitions: 3,
      replicationFactor: -1,
      group: 'g',
      retentionMaxBytes: 10,
      retentionMaxMessages: 20n,
      retentionMaxAgeMs: 30,
      cleanerIntervalMs: 40,
      segmentMaxBytes: 50,
      segmentMaxAgeMs: 60,
      compactMaxGoroutines: 2,
      compactEnabled: true,
      autoPauseTimeMs: 70,
      autoPauseDisableIfSubscribers: false,
      minIsr: 1,
      optimisticConcurrencyControl: true,
      encryption: false,
    });
    expect(request).toEqual({
      name: 's',
      subject: 'subj',
      group: 'g',
      replicationFactor: -1,
      partitions: 3,
      retentionMaxBytes: { value: 10n },
      retentionMaxMessages: { value: 20n },
      retentionMaxAge: { value: 30n },
      cleanerInterval: { value: 40n },
      segmentMaxBytes: { value: 50n },
      segmentMaxAge: { value: 60n },
      compactMaxGoroutines: { value: 2 },
      compactEnabled: { value: true },
      autoPauseTime: { value: 70n },
      autoPauseDisableIfSubscribers: { value: false },
      minIsr: { value: 1 },
      optimisticConcurrencyControl: { value: true },
      encryption: { value: false },
    });
  });
});

describe('toSubscribeRequest', () => {
  it('defaults to NEW_ONLY on partition 0 until cancelled', () => {
    expect(toSubscribeRequest('s')).toMatchObject({
      stream: 's',
      partition: 0,
      startPosition: StartPosition.NEW_ONLY,
      stopPosition: StopPosition.STOP_ON_CANCEL,
      readISRReplica: false,
      resume: false,
    });
  });

  it('infers positions from offsets and timestamps', () => {
    expect(toSubscribeRequest('s', { startOffset: 5, stopOffset: 9n })).toMatchObject({
      startPosition: StartPosition.OFFSET,
      startOffset: 5n,
      stopPosition: StopPosition.STOP_OFFSET,
      stopOffset: 9n,
    });
    expect(toSubscribeRequest('s', { startTimestamp: 1n, stopTimestamp: 2n })).toMatchObject({
      startPosition: StartPosition.TIMESTAMP,
      startTimestamp: 1n,
      stopPosition: StopPosition.STOP_TIMESTAMP,
      stopTimestamp: 2n,
    });
    expect(toSubscribeRequest('s', { startPosition: StartPosition.LATEST, stopPosition: StopPosition.STOP_LATEST, partition: 2, readIsrReplica: true, resume: true })).toMatchObject({
      startPosition: StartPosition.LATEST,
      stopPosition: StopPosition.STOP_LATEST,
      partition: 2,
      readISRReplica: true,
      resume: true,
    });
  });
});

describe('toPublishRequest', () => {
  it('defaults expectedOffset to -1 and the ack policy to LEADER, encodes headers as bytes', () => {
    const request = toPublishRequest('s', 1, Buffer.from('k'), Buffer.from('v'), 'c1', { headers: { a: 'x', b: new Uint8Array([1]) } });
    expect(request).toEqual({
      stream: 's',
      partition: 1,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: { a: Buffer.from('x'), b: Buffer.from([1]) },
      ackInbox: '',
      correlationId: 'c1',
      ackPolicy: AckPolicy.LEADER,
      expectedOffset: -1n,
    });
    expect(toPublishRequest('s', 0, Buffer.alloc(0), Buffer.alloc(0), 'c', { expectedOffset: 4, ackPolicy: AckPolicy.ALL })).toMatchObject({
      expectedOffset: 4n,
      ackPolicy: AckPolicy.ALL,
    });
  });
});

describe('toBuffer', () => {
  it('accepts strings, Buffers and Uint8Arrays without copying Buffers', () => {
    const b = Buffer.from('x');
    expect(toBuffer(b)).toBe(b);
    expect(toBuffer('é')).toEqual(Buffer.from('é', 'utf8'));
    expect(toBuffer(new Uint8Array([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(toBuffer(undefined)).toEqual(Buffer.alloc(0));
  });
});
