import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { InMemoryPartitionLogStore } from '../../../src/adapters/outbound/memory/in-memory-partition-log-store';
import { call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { startTestBroker, testBrokerConfig } from '../../support/test-broker';

describe('a custom storage adapter plugged in through the container (docs/custom-storage.md)', () => {
  it('serves publishes and subscriptions from the adapter the factory returned', async () => {
    const nats = await TestNatsServer.start();
    const stores: InMemoryPartitionLogStore[] = [];
    const server = await startTestBroker(testBrokerConfig(nats.url), {
      partitionLogStore: () => {
        const store = new InMemoryPartitionLogStore();
        stores.push(store);
        return store;
      },
    });
    const client = connectClient(server.address);
    try {
      await call(client.createStream, client, { name: 'custom', subject: 'custom.subject' });
      const ack = await call(client.publish, client, { stream: 'custom', value: Buffer.from('in memory'), expectedOffset: -1n });
      expect(ack.ack!.offset).toBe(0n);
      const sub = subscribe(client, { stream: 'custom', startPosition: api.StartPosition.EARLIEST });
      const [message] = await sub.waitFor(1);
      sub.cancel();
      expect(message!.value.toString()).toBe('in memory');
      expect(stores).toHaveLength(1);
      expect(await stores[0]!.list()).toEqual([{ stream: 'custom', partition: 0 }]);
      expect(fs.existsSync(path.join(server.config.dataDir, 'streams'))).toBe(false);
    } finally {
      client.close();
      await server.destroy();
      await nats.stop();
    }
  });
});
