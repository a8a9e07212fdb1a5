/**
 * A full disk under a real server (docs/reliability.md "Scenarios", scenario 25): the data
 * directory is a small tmpfs that a filler file fills while clients publish. Wanted: every publisher
 * gets an answer (an ack or an error, never silence or a deadline), /readyz says 503 and why,
 * CreateStream fails at once with an error naming the storage failure, and once the filler is
 * removed the server recovers by itself within 10 s (readiness 200, publishes acked, metadata
 * changes accepted) with every acknowledged message readable afterwards.
 *
 * Needs root (mount -t tmpfs): this suite fails, saying so, where it cannot mount.
 */
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';
import { fillDisk, mountTmpfs, unmountTmpfs } from '../../support/tmpfs';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

const TMPFS_BYTES = 24 * 1024 * 1024;
/** Larger than a page: a write of it needs new space, whatever the last page of a file holds. */
const VALUE_BYTES = 16 * 1024;
const RECOVERY_WITHIN_MS = 10_000;
/** How long a publisher may wait for its answer while the disk is full. */
const ANSWER_WITHIN_MS = 5_000;

async function readyz(port: number): Promise<{ status: number; body: { ready: boolean; reasons: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; reasons: string[] } };
}

const value = (label: string): Buffer => Buffer.concat([Buffer.from(`${label}:`), Buffer.alloc(VALUE_BYTES, label.charCodeAt(0))]);

/** Sends `count` PublishAsync requests and collects what comes back within `ANSWER_WITHIN_MS`. */
async function publishAsyncBatch(client: ApiClient, stream: string, label: string, count: number): Promise<Map<string, api.PublishResponse>> {
  const call = client.publishAsync();
  const answers = new Map<string, api.PublishResponse>();
  call.on('data', (r: api.PublishResponse) => answers.set(r.correlationId, r));
  call.on('error', () => undefined);
  for (let i = 0; i < count; i++) call.write({ stream, value: value(`${label}${i}`), correlationId: `${label}${i}`, expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER });
  await waitFor(() => answers.size === count, ANSWER_WITHIN_MS, `answers to ${count} PublishAsync requests`).catch(() => undefined);
  call.cancel();
  return answers;
}

describe('a full disk under a real server', () => {
  it('answers every publisher, reports not ready with the reason, and recovers by itself once space returns', async () => {
    const mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-full-'));
    mountTmpfs(mountDir, TMPFS_BYTES);
    const nats = await TestNatsServer.start();
    let server: StartedTestBroker | null = null;
    let client: ApiClient | null = null;
    try {
      const httpPort = await freePort();
      server = await startTestBroker(testBrokerConfig(nats.url, { dataDir: path.join(mountDir, 'data'), http: { host: '127.0.0.1', port: httpPort } }));
      client = connectClient(server.address);
      const stream = 'full';
      await call(client.createStream, client, { name: stream, subject: 'full.subject' });
      /** offset → value of every message acknowledged OK. */
      const acked = new Map<bigint, string>();
      const publish = async (label: string, timeoutMs = ANSWER_WITHIN_MS) => {
        const response = await call(client!.publish, client!, { stream, value: value(label), expectedOffset: -1n, ackPolicy: api.AckPolicy.LEADER }, timeoutMs);
        if (response.ack?.ackError === api.AckError.OK) acked.set(response.ack.offset, label);
        return response;
      };
      for (let i = 0; i < 5; i++) await publish(`before${i}`);

      const filler = path.join(mountDir, 'filler');
      fillDisk(filler);
      const unary = await publish('during', ANSWER_WITHIN_MS).then(
        () => null,
        (error: grpc.ServiceError) => error,
      );
      const asyncAnswers = await publishAsyncBatch(client, stream, 'async', 20);
      for (const answer of asyncAnswers.values()) {
        // An error answer carries an empty ack beside asyncError.
        if (!answer.asyncError && answer.ack?.ackError === api.AckError.OK) acked.set(answer.ack.offset, answer.correlationId);
      }

      // Readiness: not ready, naming the partition and the error code.
      await waitFor(async () => (await readyz(httpPort)).status === 503, 5000, '/readyz to report the full disk');
      const notReady = await readyz(httpPort);
      expect(notReady.body.ready).toBe(false);
      expect(notReady.body.reasons).toContainEqual(expect.stringMatching(/partition log full\/0 cannot write \(ENOSPC\)/));
      expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200); // alive, recovering

      // A metadata change fails at once with an error naming the storage failure (not a timeout).
      const started = Date.now();
      const created = await call(client.createStream, client, { name: 'during', subject: 'during.subject' }, ANSWER_WITHIN_MS).then(
        () => null,
        (error: grpc.ServiceError) => error,
      );
      expect(created).not.toBeNull();
      expect(created!.details).toMatch(/metadata log storage failed \(ENOSPC/);
      expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);

      // Space returns: the server recovers by itself.
      fs.rmSync(filler);
      const freed = Date.now();
      await waitFor(async () => (await readyz(httpPort)).status === 200, RECOVERY_WITHIN_MS, 'readiness after space returned');
      await waitFor(
        async () => (await publish('after', 2000).catch(() => null))?.ack?.ackError === api.AckError.OK,
        RECOVERY_WITHIN_MS - (Date.now() - freed),
        'a publish to be acknowledged after space returned',
      );
      await call(client.createStream, client, { name: 'later', subject: 'later.subject' });

      // Every acknowledged message is there, as acknowledged.
      const sub = subscribe(client, { stream, startPosition: api.StartPosition.EARLIEST });
      const newest = [...acked.keys()].reduce((a, b) => (a > b ? a : b));
      const received = await sub.waitFor(Number(newest) + 1);
      sub.cancel();
      const byOffset = new Map(received.map((m) => [m.offset, m.value.toString('utf8').split(':')[0]]));
      for (const [offset, label] of acked) expect([offset, byOffset.get(offset)]).toEqual([offset, label]);

      // Every publisher got an answer while the disk was full (needs the leader to answer failed
      // appends with error acks: docs/storage.md "What one record can hold").
      expect(unary?.code).not.toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(asyncAnswers.size).toBe(20);
    } finally {
      client?.close();
      await server?.stop();
      await nats.stop();
      unmountTmpfs(mountDir);
    }
  });
});
