import { AckPolicy } from '../../../src/application/ports/message-transport.port';
import { PartitionSupervisor } from '../../../src/application/partitions/partition-supervisor';
import { PublishHandler } from '../../../src/application/use-cases/publish';
import { StreamAdminHandler } from '../../../src/application/use-cases/stream-admin';
import { SubscribeHandler, SubscribeQuery } from '../../../src/application/use-cases/subscribe';
import { subscribeQuery } from '../../support/subscribe-query';
import { freshAdapters, startMemoryBroker, stopMemoryBroker } from '../../support/memory-broker';

/**
 * Subscribe counts the subscriptions it serves per partition, which an auto-pause that spares
 * partitions with subscribers reads (docs/consumers.md "Auto-pause").
 */

const REF = { stream: 'orders', partition: 0 };
const query = (overrides: Partial<SubscribeQuery> = {}): SubscribeQuery => subscribeQuery(REF.stream, { partition: REF.partition, ...overrides });

describe('the subscriptions a server serves, per partition', () => {
  it('counts a subscription while it streams, and no longer once it ended', async () => {
    const broker = await startMemoryBroker(freshAdapters());
    try {
      await broker.get(StreamAdminHandler).createStream({ name: 'orders', subject: 'orders', group: '', replicationFactor: 1, partitions: 2, config: {} });
      const published = await broker.get(PublishHandler).publish(
        { key: null, value: Buffer.from('m'), ...REF, headers: null, ackInbox: '', correlationId: 'm', ackPolicy: AckPolicy.LEADER, expectedOffset: -1 },
        5000,
      );
      expect(published.ok).toBe(true);
      const subscriptions = broker.get(PartitionSupervisor).subscriptions;
      const opened = await broker.get(SubscribeHandler).open(query());
      if (!opened.ok) throw new Error(opened.error.kind);
      expect(subscriptions.count(REF)).toBe(0); // validated, not streaming yet
      const seenWhileStreaming: number[] = [];
      const end = await opened.value.pump(
        { write: () => void seenWhileStreaming.push(subscriptions.count(REF), subscriptions.count({ stream: 'orders', partition: 1 })) },
        new AbortController().signal,
      );
      expect(end.kind).toBe('StopOffsetReached');
      expect(seenWhileStreaming).toEqual([1, 0]);
      expect(subscriptions.count(REF)).toBe(0);
    } finally {
      await stopMemoryBroker(broker);
    }
  });
});
