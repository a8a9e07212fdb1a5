import { StorageIoError } from '../../../../src/application/errors/broker-errors';
import { readinessOf, ReadinessInputs } from '../../../../src/infrastructure/lifecycle/readiness';

const healthy: ReadinessInputs = {
  natsUp: true,
  natsUnreachable: null,
  metadataLoaded: true,
  serving: true,
  partitionStorageFailures: [],
  metadataStorageFailure: null,
  partitionsNotStarted: [],
  otherSeed: null,
};
const enospc = (what: string) => new StorageIoError(`${what} failed to write or sync (ENOSPC)`, 'ENOSPC');

describe('readinessOf (/readyz)', () => {
  it('is ready with every check passing and no reasons', () => {
    expect(readinessOf(healthy)).toEqual({ checks: { nats: true, metadata: true, grpc: true, storage: true, partitions: true, bootstrap: true }, reasons: [] });
  });

  it('is not ready while a partition log or the metadata log cannot write, naming them and the error code', () => {
    const readiness = readinessOf({
      ...healthy,
      partitionStorageFailures: [{ ref: { stream: 'orders', partition: 2 }, failure: enospc('partition log') }],
      metadataStorageFailure: enospc('raft storage'),
    });
    expect(readiness.checks.storage).toBe(false);
    expect(readiness.reasons).toEqual([
      'storage: partition log orders/2 cannot write (ENOSPC); it refuses appends until it recovered',
      'storage: metadata log cannot save (ENOSPC); metadata changes are refused until it recovered',
    ]);
  });

  it('names at most ten failed partitions and counts the rest', () => {
    const failures = Array.from({ length: 13 }, (_, i) => ({ ref: { stream: 's', partition: i }, failure: enospc('partition log') }));
    const { reasons } = readinessOf({ ...healthy, partitionStorageFailures: failures });
    expect(reasons).toHaveLength(11);
    expect(reasons[10]).toBe('storage: 3 more partition logs cannot write');
  });

  it('is not ready while a partition of this server could not start, naming it and why, ten at most', () => {
    const notStarted = Array.from({ length: 12 }, (_, i) => ({ ref: { stream: 'orders', partition: i }, code: 'EMFILE', message: 'EMFILE: too many open files' }));
    const readiness = readinessOf({ ...healthy, partitionsNotStarted: notStarted });
    expect(readiness.checks.partitions).toBe(false);
    expect(readiness.reasons[0]).toBe('partitions: partition orders/0 could not start (EMFILE: too many open files); it is retried');
    expect(readiness.reasons).toHaveLength(11);
    expect(readiness.reasons[10]).toBe('partitions: 2 more partitions could not start');
  });

  it('says why the other checks fail', () => {
    expect(readinessOf({ ...healthy, natsUp: false, metadataLoaded: false, serving: false }).reasons).toEqual([
      'nats: a NATS connection is down',
      'metadata: not loaded yet (this broker is not registered in it)',
      'grpc: not serving (starting or stopping)',
    ]);
  });

  it('gives the last NATS connection error while start-up waits for NATS, and names another bootstrap seed', () => {
    const readiness = readinessOf({
      ...healthy,
      natsUp: false,
      natsUnreachable: 'NATS unreachable (CONNECTION_REFUSED), attempt 3',
      otherSeed: { serverId: 's2', namespace: 'ns' },
    });
    expect(readiness.checks).toMatchObject({ nats: false, bootstrap: false });
    expect(readiness.reasons).toEqual([
      'nats: NATS unreachable (CONNECTION_REFUSED), attempt 3',
      'bootstrap: server s2 also announces itself as a bootstrap seed in namespace ns',
    ]);
  });
});
