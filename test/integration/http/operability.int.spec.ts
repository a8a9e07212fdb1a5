import * as api from '../../../src/protocol/api-types';
import { call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { startTestBroker, testBrokerConfig } from '../../support/test-broker';

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** The value of one Prometheus sample, e.g. `liftbridge_messages_in_total{stream="s",partition="0"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operability HTTP endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics that follow the traffic', async () => {
    const nats = await TestNatsServer.start();
    const httpPort = await freePort();
    const server = await startTestBroker(testBrokerConfig(nats.url, { http: { host: '127.0.0.1', port: httpPort } }));
    const client = connectClient(server.address);
    try {
      expect(await get(httpPort, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
      const ready = await get(httpPort, '/readyz');
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toEqual({ ready: true, checks: { nats: true, metadata: true, grpc: true, storage: true, partitions: true, bootstrap: true }, reasons: [] });

      await call(client.createStream, client, { name: 'observed', subject: 'observed.subject' });
      for (let i = 0; i < 5; i++) await call(client.publish, client, { stream: 'observed', value: Buffer.from(`m${i}`), expectedOffset: -1n });
      const sub = subscribe(client, { stream: 'observed', startPosition: api.StartPosition.EARLIEST });
      await sub.waitFor(5);

      const labels = '{stream="observed",partition="0"}';
      let metrics = await get(httpPort, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.type).toContain('text/plain');
      expect(sample(metrics.body, `liftbridge_messages_in_total${labels}`)).toBe(5);
      expect(sample(metrics.body, `liftbridge_messages_out_total${labels}`)).toBe(5);
      expect(sample(metrics.body, 'liftbridge_subscriptions')).toBe(1);
      expect(sample(metrics.body, 'liftbridge_partitions')).toBe(1);
      expect(sample(metrics.body, 'liftbridge_partition_leaders')).toBe(1);
      expect(sample(metrics.body, 'liftbridge_publish_ack_latency_seconds_count')).toBe(5);
      expect(sample(metrics.body, 'liftbridge_nats_connected{connection="streams"}')).toBe(1);
      expect(sample(metrics.body, 'liftbridge_metadata_controller')).toBe(1);
      expect(sample(metrics.body, 'liftbridge_storage_failed{store="partition-log"}')).toBe(0);
      expect(sample(metrics.body, 'liftbridge_storage_failed{store="metadata-log"}')).toBe(0);

      sub.cancel();
      await sub.done;
      await waitFor(async () => sample((await get(httpPort, '/metrics')).body, 'liftbridge_subscriptions') === 0, 5000, 'the subscription gauge to drop');
      metrics = await get(httpPort, '/metrics');
      expect(metrics.body).toContain('process_cpu_seconds_total');
      expect((await get(httpPort, '/nope')).status).toBe(404);
    } finally {
      client.close();
      await server.destroy();
      await nats.stop();
    }
  });
});
