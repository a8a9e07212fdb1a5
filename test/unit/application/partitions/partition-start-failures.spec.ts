/**
 * Partitions that cannot start (docs/operability.md "Partitions that cannot start"): a partition whose log could not open (EMFILE) used to be silent: the error
 * went to the log, CreateStream answered OK, the stream's later partitions were not even tried,
 * and publishes to the broken ones waited for an ack until their deadline. Now the failure is
 * recorded and retried with a back-off, CreateStream says which partitions and why, publishes and
 * partition metadata requests are answered at once, and the counts are kept as partitions change
 * instead of recounted on every start (which made a restart of n partitions cost n²).
 */
import { Container } from 'inversify';
import { AckPolicy } from '../../../../src/application/ports/message-transport.port';
import { PartitionLog, PartitionLogOptions } from '../../../../src/application/ports/partition-log.port';
import { PartitionSupervisor } from '../../../../src/application/partitions/partition-supervisor';
import { PartitionStartFailures } from '../../../../src/application/partitions/partition-start-failures';
import { Cancellable, Scheduler } from '../../../../src/application/ports/clock.port';
import { Metrics } from '../../../../src/application/ports/metrics.port';
import { FetchMetadataQuery } from '../../../../src/application/use-cases/fetch-metadata';
import { PublishHandler, PublishRequestData } from '../../../../src/application/use-cases/publish';
import { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { NoMetrics } from '../../../../src/adapters/outbound/metrics/no-metrics';
import { InMemoryPartitionLogStore } from '../../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { PartitionRef } from '../../../../src/domain/shared/ids';
import { freshAdapters, startMemoryBroker, stopMemoryBroker } from '../../../support/memory-broker';
import { waitFor } from '../../../support/ports';

/** A store that refuses to open some partitions with EMFILE, as a process out of descriptors does. */
class ExhaustedStore extends InMemoryPartitionLogStore {
  refused: (ref: PartitionRef) => boolean = () => false;
  opens = 0;

  override open(ref: PartitionRef, options: PartitionLogOptions): Promise<PartitionLog> {
    this.opens++;
    if (this.refused(ref)) return Promise.reject(Object.assign(new Error(`EMFILE: too many open files, open '/data/streams/${ref.stream}/${ref.partition}/00000000000000000000.log'`), { code: 'EMFILE' }));
    return super.open(ref, options);
  }
}

/** The gauges the supervisor sets, as the last call left them. */
interface Recorded {
  running: { partitions: number; leaders: number };
  notStarted: number;
  startFailures: string[];
}

function recordingMetrics(): { metrics: Metrics; seen: Recorded } {
  const seen: Recorded = { running: { partitions: 0, leaders: 0 }, notStarted: 0, startFailures: [] };
  const metrics: Metrics = Object.assign(new NoMetrics(), {
    partitionsRunning: (partitions: number, leaders: number) => void (seen.running = { partitions, leaders }),
    partitionsNotStarted: (partitions: number) => void (seen.notStarted = partitions),
    partitionStartFailed: (code: string) => void seen.startFailures.push(code),
  });
  return { metrics, seen };
}

const publishTo = (partition: number): PublishRequestData => ({
  key: null,
  value: Buffer.from('x'),
  stream: 'wide',
  partition,
  headers: null,
  ackInbox: '',
  correlationId: 'c',
  ackPolicy: AckPolicy.LEADER,
  expectedOffset: -1,
});

describe('partitions that cannot start', () => {
  let store: ExhaustedStore;
  let metrics: Recorded;
  let broker: Container;

  beforeEach(async () => {
    const adapters = { ...freshAdapters(), partitionLogs: (store = new ExhaustedStore()) };
    const recording = recordingMetrics();
    metrics = recording.seen;
    broker = await startMemoryBroker(adapters, undefined, recording.metrics);
  });

  afterEach(async () => {
    await stopMemoryBroker(broker);
  });

  const create = (partitions: number) =>
    broker.get(StreamAdminHandler).createStream({ name: 'wide', subject: 'wide', group: '', replicationFactor: 1, partitions, config: {} });

  it('are named in CreateStream\'s answer, answered at once on publish and metadata requests, and retried until they start', async () => {
    const failing = new Set([2, 5]);
    store.refused = (ref) => failing.has(ref.partition);
    const created = await create(8);
    expect(created).toEqual({
      ok: false,
      error: {
        kind: 'PartitionsNotStarted',
        stream: 'wide',
        action: 'created',
        count: 2,
        failures: [2, 5].map((partition) => ({
          partition,
          code: 'EMFILE',
          message: `EMFILE: too many open files, open '/data/streams/wide/${partition}/00000000000000000000.log'`,
        })),
      },
    });
    // The stream exists (a retried CreateStream says so); every other partition started.
    expect(broker.get(MetadataService).state.streams.has('wide')).toBe(true);
    const supervisor = broker.get(PartitionSupervisor);
    expect([0, 1, 3, 4, 6, 7].every((partition) => supervisor.get({ stream: 'wide', partition })?.isLeader)).toBe(true);
    expect(supervisor.partitionsNotStarted().map((f) => f.ref.partition).sort()).toEqual([2, 5]);
    expect(metrics.notStarted).toBe(2);
    expect(metrics.startFailures).toEqual(['EMFILE', 'EMFILE']);
    expect(metrics.running).toEqual({ partitions: 6, leaders: 6 });

    // A publish to a partition that did not start is refused now, not after the ack deadline.
    const publisher = broker.get(PublishHandler);
    const refused = publisher.check(publishTo(5));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toMatchObject({ kind: 'PartitionNotStarted', stream: 'wide', partition: 5, code: 'EMFILE' });
    expect(publisher.check(publishTo(4)).ok).toBe(true);
    expect(broker.get(FetchMetadataQuery).partition('wide', 2)).toMatchObject({ ok: false, error: { kind: 'PartitionNotStarted', partition: 2 } });

    // Descriptors come back: the retry (1 s back-off) starts them by themselves.
    failing.clear();
    await waitFor(() => supervisor.partitionsNotStarted().length === 0, 5000, 'the failed partitions to start');
    expect(supervisor.get({ stream: 'wide', partition: 5 })?.isLeader).toBe(true);
    expect(publisher.check(publishTo(5)).ok).toBe(true);
    expect(metrics.notStarted).toBe(0);
    expect(metrics.running).toEqual({ partitions: 8, leaders: 8 });
  });

  it('are forgotten when the stream is deleted', async () => {
    store.refused = (ref) => ref.partition === 1;
    expect((await create(3)).ok).toBe(false);
    expect((await broker.get(StreamAdminHandler).deleteStream('wide')).ok).toBe(true);
    expect(broker.get(PartitionSupervisor).partitionsNotStarted()).toEqual([]);
    expect(metrics.notStarted).toBe(0);
    expect(metrics.running).toEqual({ partitions: 0, leaders: 0 });
  });

  it('keeps the running and leader counts right as partitions start and stop, without recounting them', async () => {
    expect((await create(50)).ok).toBe(true);
    expect(metrics.running).toEqual({ partitions: 50, leaders: 50 });
    expect((await broker.get(StreamAdminHandler).pauseStream('wide', [3, 4], false)).ok).toBe(true);
    expect(metrics.running).toEqual({ partitions: 48, leaders: 48 });
    expect((await broker.get(StreamAdminHandler).resumeStream('wide', [3])).ok).toBe(true);
    expect(metrics.running).toEqual({ partitions: 49, leaders: 49 });
    expect((await broker.get(StreamAdminHandler).deleteStream('wide')).ok).toBe(true);
    expect(metrics.running).toEqual({ partitions: 0, leaders: 0 });
  });
});

/** Timers the test fires by hand. */
class ManualScheduler implements Scheduler {
  readonly timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  afterTurn(fn: () => void): void {
    fn();
  }
  setTimeout(fn: () => void, ms: number): Cancellable {
    const timer = { fn, ms, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  setInterval(): Cancellable {
    throw new Error('not used');
  }
  get pending() {
    return this.timers.filter((t) => !t.cancelled);
  }
}

describe('PartitionStartFailures retries', () => {
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });

  it('retries a stream after 1 s, doubling to 10 s, and stops once none of its partitions fails', () => {
    const scheduler = new ManualScheduler();
    const failures = new PartitionStartFailures(scheduler);
    let retries = 0;
    const delays: (number | null)[] = [];
    for (let round = 0; round < 6; round++) {
      failures.failed({ stream: 's', partition: 0 }, emfile);
      delays.push(failures.scheduleRetry('s', () => retries++));
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(scheduler.pending).toHaveLength(1); // one timer per stream, the newest
    expect(failures.get({ stream: 's', partition: 0 })?.attempts).toBe(6);
    failures.cleared({ stream: 's', partition: 0 });
    expect(failures.scheduleRetry('s', () => retries++)).toBeNull();
    expect(scheduler.pending).toHaveLength(0);
    // The back-off starts over with the next failure.
    failures.failed({ stream: 's', partition: 0 }, emfile);
    expect(failures.scheduleRetry('s', () => retries++)).toBe(1000);
    scheduler.pending[0]!.fn();
    expect(retries).toBe(1);
  });

  it('cancels every retry when the server stops', () => {
    const scheduler = new ManualScheduler();
    const failures = new PartitionStartFailures(scheduler);
    failures.failed({ stream: 'a', partition: 0 }, emfile);
    failures.failed({ stream: 'b', partition: 3 }, new Error('no code'));
    failures.scheduleRetry('a', () => undefined);
    failures.scheduleRetry('b', () => undefined);
    expect(failures.ofStream('b')).toEqual([{ ref: { stream: 'b', partition: 3 }, code: 'Error', message: 'no code', attempts: 1 }]);
    failures.cancelRetries();
    expect(scheduler.pending).toHaveLength(0);
  });
});
