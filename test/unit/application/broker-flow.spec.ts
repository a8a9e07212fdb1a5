import { Container } from 'inversify';
import { firstValueFrom, take, toArray } from 'rxjs';
import { AckPolicy } from '../../../src/application/ports/message-transport.port';
import { RecordBatch } from '../../../src/application/ports/partition-log.port';
import { StreamAdminHandler } from '../../../src/application/use-cases/stream-admin';
import { SubscribeHandler } from '../../../src/application/use-cases/subscribe';
import { PublishHandler } from '../../../src/application/use-cases/publish';
import { FetchMetadataQuery } from '../../../src/application/use-cases/fetch-metadata';
import { decodeEntry } from '../../../src/adapters/codec/message-set';
import { subscribeQuery } from '../../support/subscribe-query';
import { freshAdapters, restartedAdapters, startMemoryBroker, stopMemoryBroker } from '../../support/memory-broker';

const query = subscribeQuery;

/** Reads a partition to its end with the Subscribe use case and decodes the values. */
async function readValues(container: Container, stream: string): Promise<string[]> {
  const opened = await container.get(SubscribeHandler).open(query(stream));
  if (!opened.ok) throw new Error(opened.error.kind);
  const values: string[] = [];
  const end = await opened.value.pump(
    {
      write: (batch: RecordBatch) => {
        let position = 0;
        for (let i = 0; i < batch.count; i++) {
          const entry = decodeEntry(batch.bytes, position);
          values.push(Buffer.from(entry.value ?? []).toString());
          position += entry.entryBytes;
        }
      },
    },
    new AbortController().signal,
  );
  expect(end.kind).toBe('StopOffsetReached');
  return values;
}

describe('the application wired with in-memory adapters', () => {
  it('records messages from the transport, acks them, and serves them to subscribers', async () => {
    const adapters = freshAdapters();
    const broker = await startMemoryBroker(adapters);
    const created = await broker.get(StreamAdminHandler).createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 1, config: {} });
    expect(created.ok).toBe(true);
    const inbox = await adapters.transport.openAckInbox('acks.here');
    const acks = firstValueFrom(inbox.acks$.pipe(take(3), toArray()));
    for (const v of ['a', 'b', 'c']) {
      adapters.transport.publishInbound('orders', {
        key: null, value: Buffer.from(v), headers: null, reply: '', ackInbox: 'acks.here', correlationId: v,
        ackPolicy: AckPolicy.LEADER, expectedOffset: -1,
      });
    }
    expect((await acks).map((a) => [a.correlationId, a.offset])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(await readValues(broker, 'orders')).toEqual(['a', 'b', 'c']);
    await stopMemoryBroker(broker);
  });

  it('comes back after a restart with the same streams and messages (metadata replayed from the log)', async () => {
    const adapters = freshAdapters();
    const first = await startMemoryBroker(adapters);
    await first.get(StreamAdminHandler).createStream({ name: 's', subject: 's', group: '', replicationFactor: 1, partitions: 2, config: {} });
    await first.get(StreamAdminHandler).setStreamReadonly('s', [1], true);
    const published = await first.get(PublishHandler).publish(
      { key: null, value: Buffer.from('kept'), stream: 's', partition: 0, headers: null, ackInbox: '', correlationId: 'x', ackPolicy: AckPolicy.LEADER, expectedOffset: -1 },
      1000,
    );
    expect(published.ok && published.value?.offset).toBe(0);
    await stopMemoryBroker(first);

    const restarted = await startMemoryBroker(restartedAdapters(adapters));
    const [view] = restarted.get(FetchMetadataQuery).streams(['s']);
    expect(view).toMatchObject({ kind: 'known', name: 's' });
    if (view?.kind !== 'known') throw new Error('stream missing after restart');
    expect(view.partitions.map((p) => [p.id, p.readonly, p.newestOffset])).toEqual([[0, false, 0], [1, true, -1]]);
    expect(await readValues(restarted, 's')).toEqual(['kept']);
    await stopMemoryBroker(restarted);
  });
});
