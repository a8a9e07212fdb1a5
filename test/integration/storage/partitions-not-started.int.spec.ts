/**
 * Partitions that cannot start (docs/operability.md "Partitions that cannot start") under a real server (gRPC, NATS, files): partitions whose log cannot open for
 * lack of descriptors (EMFILE, injected through the file-system seam for two partitions) used to be
 * silent: CreateStream answered OK, the error went to the log only, and publishes to them timed
 * out. Wanted: CreateStream's answer names them and the cause, /readyz and the metrics report them,
 * publishes and FetchPartitionMetadata are answered at once, and once descriptors are available
 * again the partitions start by themselves and take publishes.
 */
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { FilesystemPartitionLogStore } from '../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { OpenMode, StorageFile } from '../../../src/adapters/outbound/filesystem/file-system';
import { NodeFileSystem } from '../../../src/adapters/outbound/filesystem/node-file-system';
import { ProtoInit } from '../../../src/protocol/proto-schema';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/** Node's file system, refusing with EMFILE every open under the partition directories in `refused`. */
class OutOfDescriptors extends NodeFileSystem {
  readonly refused = new Set<string>();

  override open(file: string, mode: OpenMode): Promise<StorageFile> {
    for (const dir of this.refused) {
      if (file.startsWith(`${dir}${path.sep}`)) return Promise.reject(Object.assign(new Error(`EMFILE: too many open files, open '${file}'`), { code: 'EMFILE', errno: -24 }));
    }
    return super.open(file, mode);
  }
}

async function get(port: number, what: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${what}`);
  return { status: res.status, body: await res.text() };
}

/** One PublishAsync request, and its answer. */
function publishAsyncOnce(client: ApiClient, request: ProtoInit<api.PublishRequest>): Promise<api.PublishResponse> {
  const stream = client.publishAsync();
  return new Promise((resolve, reject) => {
    stream.on('data', (response: api.PublishResponse) => {
      resolve(response);
      stream.cancel();
    });
    stream.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) reject(error);
    });
    stream.write(request);
  });
}

describe('partitions that cannot open under a real server', () => {
  it('are named by CreateStream, /readyz and the metrics, refused at once to publishers, and start by themselves once they can', async () => {
    const nats = await TestNatsServer.start();
    let server: StartedTestBroker | null = null;
    let client: ApiClient | null = null;
    try {
      const httpPort = await freePort();
      const fileSystem = new OutOfDescriptors();
      const config = testBrokerConfig(nats.url, { http: { host: '127.0.0.1', port: httpPort } });
      const partitionDir = (p: number) => path.join(config.dataDir, 'streams', 'wide', String(p));
      fileSystem.refused.add(partitionDir(3));
      fileSystem.refused.add(partitionDir(6));
      server = await startTestBroker(config, {
        partitionLogStore: ({ dataDir, logger, onIoError, openFilesMax }) => new FilesystemPartitionLogStore({ dataDir, logger, onIoError, openFilesMax, fs: fileSystem }),
      });
      client = connectClient(server.address);

      // CreateStream: the stream is created, and the answer says which partitions did not start, and why.
      const created = await call(client.createStream, client, { name: 'wide', subject: 'wide', partitions: 8 }).then(
        () => null,
        (error: grpc.ServiceError) => error,
      );
      expect(created?.code).toBe(grpc.status.UNAVAILABLE);
      expect(created?.details).toContain('stream wide was created, but 2 of its partitions could not start on this server');
      expect(created?.details).toContain(`wide/3 (EMFILE: too many open files, open '${partitionDir(3)}`);
      expect(created?.details).toContain('wide/6 (EMFILE');
      const again = await call(client.createStream, client, { name: 'wide', subject: 'wide', partitions: 8 }).catch((e: grpc.ServiceError) => e);
      expect((again as grpc.ServiceError).code).toBe(grpc.status.ALREADY_EXISTS);

      // Readiness and metrics name them.
      const ready = await get(httpPort, '/readyz');
      expect(ready.status).toBe(503);
      const reasons = (JSON.parse(ready.body) as { reasons: string[] }).reasons;
      expect(reasons).toContainEqual(expect.stringMatching(/^partitions: partition wide\/3 could not start \(EMFILE: too many open files/));
      expect(reasons).toContainEqual(expect.stringMatching(/^partitions: partition wide\/6 could not start/));
      const metrics = (await get(httpPort, '/metrics')).body;
      expect(metrics).toMatch(/^liftbridge_partitions_not_started 2$/m);
      expect(metrics).toMatch(/^liftbridge_partition_start_failures_total\{code="EMFILE"\} [1-9]/m);

      // A publish to a partition that did not start is refused at once (it used to wait for its deadline).
      const started = Date.now();
      const refused = await call(client.publish, client, { stream: 'wide', partition: 3, value: Buffer.from('x'), ackPolicy: api.AckPolicy.LEADER }, 5000).catch(
        (e: grpc.ServiceError) => e,
      );
      expect((refused as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      expect((refused as grpc.ServiceError).details).toMatch(/^partition wide\/3 could not start on this server: EMFILE/);
      expect(Date.now() - started).toBeLessThan(1000);
      const asyncAnswer = await publishAsyncOnce(client, { stream: 'wide', partition: 6, value: Buffer.from('x'), correlationId: 'c1', ackPolicy: api.AckPolicy.LEADER });
      expect(asyncAnswer.asyncError).toMatchObject({ code: api.PublishAsyncErrorCode.INTERNAL, message: expect.stringMatching(/^partition wide\/6 could not start on this server: EMFILE/) });
      const metadata = await call(client.fetchPartitionMetadata, client, { stream: 'wide', partition: 6 }).catch((e: grpc.ServiceError) => e);
      expect((metadata as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      // The other partitions work.
      const ok = await call(client.publish, client, { stream: 'wide', partition: 4, value: Buffer.from('y'), ackPolicy: api.AckPolicy.LEADER });
      expect(ok.ack?.ackError).toBe(api.AckError.OK);

      // Descriptors are available again: the partitions start by themselves (retried within 10 s).
      fileSystem.refused.clear();
      await waitFor(async () => (await get(httpPort, '/readyz')).status === 200, 15_000, 'readiness once the partitions could open');
      const acked = await call(client.publish, client, { stream: 'wide', partition: 3, value: Buffer.from('z'), ackPolicy: api.AckPolicy.LEADER });
      expect(acked.ack?.ackError).toBe(api.AckError.OK);
      expect((await get(httpPort, '/metrics')).body).toMatch(/^liftbridge_partitions_not_started 0$/m);
      expect(server.logs.lines.some((l) => l['msg'] === 'partitions could not start: retrying' && l['stream'] === 'wide')).toBe(true);
    } finally {
      client?.close();
      await server?.destroy();
      await nats.stop();
    }
  });
});
