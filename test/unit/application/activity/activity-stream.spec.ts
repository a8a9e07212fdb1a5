import { Container } from 'inversify';
import { ActivityDispatcher } from '../../../../src/application/activity/activity-dispatcher';
import { ACTIVITY_STREAM, InternalStreams } from '../../../../src/application/cluster/internal-streams';
import { MetadataService } from '../../../../src/application/metadata/metadata-service';
import { RecordBatch } from '../../../../src/application/ports/partition-log.port';
import { StreamAdminHandler } from '../../../../src/application/use-cases/stream-admin';
import { SubscribeHandler } from '../../../../src/application/use-cases/subscribe';
import { subscribeQuery } from '../../../support/subscribe-query';
import { decodeEntry } from '../../../../src/adapters/codec/message-set';
import { PrometheusMetrics } from '../../../../src/adapters/outbound/metrics/prometheus-metrics';
import { AckPolicy } from '../../../../src/domain/shared/wire-enums';
import { decodeActivityStreamEvent } from '../../../../src/protocol/api-proto';
import { freshAdapters, memorySettings, restartedAdapters, startMemoryBroker, stopMemoryBroker } from '../../../support/memory-broker';
import { waitFor } from '../../../support/wait-for';

/** `__activity` read to its end, each record decoded as an ActivityStreamEvent: [id, op, stream or group]. */
async function activityRecords(container: Container): Promise<[string, number, string][]> {
  const opened = await container.get(SubscribeHandler).open(subscribeQuery(ACTIVITY_STREAM));
  if (!opened.ok) return [];
  const records: [string, number, string][] = [];
  await opened.value.pump(
    {
      write: (batch: RecordBatch) => {
        let position = 0;
        for (let i = 0; i < batch.count; i++) {
          const entry = decodeEntry(batch.bytes, position);
          const event = decodeActivityStreamEvent(entry.value!);
          const about = event.createStreamOp?.stream ?? event.deleteStreamOp?.stream ?? event.pauseStreamOp?.stream ?? event.setStreamReadonlyOp?.stream ?? '';
          records.push([String(event.id), event.op ?? 0, about]);
          position += entry.entryBytes;
        }
      },
    },
    new AbortController().signal,
  );
  return records;
}

describe('the activity stream (docs/consumers.md "Activity stream")', () => {
  let container: Container;

  afterEach(async () => {
    container.get(ActivityDispatcher).stop();
    container.get(InternalStreams).resignController();
    await stopMemoryBroker(container);
  });

  it('publishes each reported metadata operation in log order, its own creation first, and records how far it got', async () => {
    const settings = memorySettings({ activity: { publishTimeoutMs: 2000, ackPolicy: AckPolicy.ALL } });
    container = await startMemoryBroker(freshAdapters(), settings);
    const dispatcher = container.get(ActivityDispatcher);
    dispatcher.watch();
    // The controller's duties (this in-memory server has no Raft group, so no controller role to start them).
    container.get(InternalStreams).becomeController();
    dispatcher.becomeController();
    const admin = container.get(StreamAdminHandler);
    expect((await admin.createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 2, config: {} })).ok).toBe(true);
    expect((await admin.pauseStream('orders', [1], false)).ok).toBe(true);
    expect((await admin.setStreamReadonly('orders', [0], true)).ok).toBe(true);
    expect((await admin.deleteStream('orders')).ok).toBe(true);

    const metadata = container.get(MetadataService);
    let records: [string, number, string][] = [];
    await waitFor(async () => (records = await activityRecords(container)).length >= 5, 10_000, 'five activity records');
    // CREATE_STREAM = 0, DELETE_STREAM = 1, PAUSE_STREAM = 2, SET_STREAM_READONLY = 4 (proto/api.proto).
    expect(records.map(([, op, about]) => [op, about])).toEqual([
      [0, ACTIVITY_STREAM],
      [0, 'orders'],
      [2, 'orders'],
      [4, 'orders'],
      [1, 'orders'],
    ]);
    const ids = records.map(([id]) => Number(id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    await waitFor(() => metadata.state.activityPublishedUpTo === ids[ids.length - 1], 10_000, 'the progress record');
    expect(dispatcher.lag).toBe(0);
  });

  it('after a restart goes on from the recorded progress: nothing published twice, the next operation appended', async () => {
    const settings = memorySettings({ activity: { publishTimeoutMs: 2000, ackPolicy: AckPolicy.ALL } });
    const adapters = freshAdapters();
    container = await startMemoryBroker(adapters, settings);
    const start = (c: Container): void => {
      c.get(ActivityDispatcher).watch();
      c.get(InternalStreams).becomeController();
      c.get(ActivityDispatcher).becomeController();
    };
    start(container);
    expect((await container.get(StreamAdminHandler).createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 1, config: {} })).ok).toBe(true);
    await waitFor(async () => (await activityRecords(container)).length === 2 && container.get(ActivityDispatcher).lag === 0, 10_000, 'two records');
    container.get(ActivityDispatcher).stop();
    container.get(InternalStreams).resignController();
    await stopMemoryBroker(container);

    container = await startMemoryBroker(restartedAdapters(adapters), { ...settings, bootId: 'second-run' });
    // The replay happened before this watch: the backlog starts from the recorded progress.
    start(container);
    expect((await container.get(StreamAdminHandler).deleteStream('orders')).ok).toBe(true);
    let records: [string, number, string][] = [];
    await waitFor(async () => (records = await activityRecords(container)).length >= 3 && container.get(ActivityDispatcher).lag === 0, 10_000, 'the third record');
    expect(records.map(([, op, about]) => [op, about])).toEqual([
      [0, ACTIVITY_STREAM],
      [0, 'orders'],
      [1, 'orders'],
    ]);
  });

  it('reports the events waiting as the lag, and counts each one it publishes (docs/operability.md "Metrics")', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const scrape = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await metrics.registry.metrics())?.[1]);
    container = await startMemoryBroker(freshAdapters(), memorySettings({ activity: { publishTimeoutMs: 2000, ackPolicy: AckPolicy.ALL } }), metrics);
    const dispatcher = container.get(ActivityDispatcher);
    dispatcher.watch();
    container.get(InternalStreams).becomeController();
    const admin = container.get(StreamAdminHandler);
    expect((await admin.createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 1, config: {} })).ok).toBe(true);
    // Not the publisher yet: the creations of orders and (soon) of __activity wait.
    await waitFor(() => dispatcher.lag === 2, 10_000, 'two events waiting');
    expect(await scrape('liftbridge_activity_lag_events')).toBe(2);
    expect(await scrape('liftbridge_activity_events_published_total')).toBe(0);

    dispatcher.becomeController();
    await waitFor(() => dispatcher.lag === 0, 10_000, 'the events published');
    expect(await scrape('liftbridge_activity_lag_events')).toBe(0);
    expect(await scrape('liftbridge_activity_events_published_total')).toBe(2);
    expect((await activityRecords(container)).map(([, , about]) => about)).toEqual([ACTIVITY_STREAM, 'orders']);
  });
});
