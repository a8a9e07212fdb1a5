import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * Auto-pause with a real server process (docs/consumers.md "Auto-pause"): the server default
 * `streams.auto.pause.time: 1s` and the stream option pause idle partitions, a publish or a
 * `resume` subscription resumes them, and the paused and read-only states FetchMetadata reports
 * survive restarts (the metadata is restored from a snapshot: one every 2 entries).
 */

const IDLE_MS = 1000;
const WAIT_MS = 15_000;

let nats: TestNatsServer;
let dataDir: string;
let configFile: string;
let port: number;
let broker: BrokerProcess | undefined;
let client: ApiClient | undefined;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-autopause-'));
  configFile = path.join(dataDir, 'liftbridge.yaml');
  fs.writeFileSync(configFile, ['streams.auto.pause.time: 1s', 'clustering.raft.snapshot.threshold: 2', ''].join('\n'));
  port = await freePort();
});

afterAll(async () => {
  client?.close();
  await broker?.kill();
  await nats?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(): Promise<ApiClient> {
  const args = ['--config', configFile, '--data-dir', path.join(dataDir, 'data'), '--port', String(port), '--nats-servers', nats.url, '--raft-bootstrap-seed', '--id', 'a'];
  broker = await BrokerProcess.start(args, port);
  client = connectClient(broker.address);
  return client;
}

async function restartServer(): Promise<ApiClient> {
  client?.close();
  const ended = await broker!.stop('SIGTERM');
  expect(ended.code).toBe(0);
  return startServer();
}

/** The metadata snapshots under `dir` (filesystem-raft-storage.ts writes `snapshot.bin`). */
const snapshotsIn = (dir: string): string[] =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f) === 'snapshot.bin');

async function partitionOf(c: ApiClient, stream: string): Promise<api.PartitionMetadata> {
  const answer = await call(c.fetchMetadata, c, { streams: [stream] });
  return answer.streamMetadata.find((s) => s.name === stream)!.partitions[0]!;
}

const flags = async (c: ApiClient, stream: string): Promise<{ paused: boolean; readonly: boolean }> => {
  const p = await partitionOf(c, stream);
  return { paused: p.paused, readonly: p.readonly };
};

const waitPaused = (c: ApiClient, stream: string): Promise<void> => waitFor(async () => (await partitionOf(c, stream)).paused, WAIT_MS, `${stream} reported paused`, 50);

const publish = (c: ApiClient, stream: string, value: string): Promise<api.PublishResponse> =>
  call(c.publish, c, { stream, value: Buffer.from(value), ackPolicy: api.AckPolicy.LEADER, expectedOffset: -1n });

/** Reads with `resume: true` from the start until the stream ends by itself. */
const readResumed = async (c: ApiClient, stream: string, stopPosition: api.StopPosition): Promise<{ values: string[]; end: grpc.StatusObject | grpc.ServiceError }> => {
  const sub = subscribe(c, { stream, resume: true, startPosition: api.StartPosition.EARLIEST, stopPosition });
  const end = await sub.done;
  return { values: sub.messages.map((m) => m.value.toString()), end };
};

describe('auto-pause (a server process, the server default of 1 s)', () => {
  it('pauses idle partitions, resumes them on publish or a resume subscription, and keeps the reported state across restarts', async () => {
    let c = await startServer();
    await call(c.createStream, c, { name: 'idle', subject: 'idle.subject' }); // the server default
    await call(c.createStream, c, { name: 'frozen', subject: 'frozen.subject', autoPauseTime: { value: BigInt(IDLE_MS) } });
    await call(c.createStream, c, { name: 'kept', subject: 'kept.subject', autoPauseTime: { value: 0n } }); // opts out
    for (const stream of ['idle', 'frozen', 'kept']) expect((await publish(c, stream, `${stream}-0`)).ack?.offset).toBe(0n);

    await waitPaused(c, 'idle');
    await waitPaused(c, 'frozen');
    // Paused once idle for the whole period after the last message, not before.
    const idle = await partitionOf(c, 'idle');
    expect(idle.pauseTimestamps!.latestTimestamp - idle.messagesReceivedTimestamps!.latestTimestamp).toBeGreaterThanOrEqual(BigInt(IDLE_MS) * 1_000_000n);
    await call(c.setStreamReadonly, c, { name: 'frozen', readonly: true });

    c = await restartServer();
    expect(snapshotsIn(path.join(dataDir, 'data'))).not.toEqual([]); // the state came back from a snapshot
    expect(await flags(c, 'idle')).toEqual({ paused: true, readonly: false });
    expect(await flags(c, 'frozen')).toEqual({ paused: true, readonly: true });
    expect(await flags(c, 'kept')).toEqual({ paused: false, readonly: false });

    // A publish resumes the partition it targets: acknowledged after the records kept on disk.
    expect((await publish(c, 'idle', 'idle-1')).ack?.offset).toBe(1n);
    expect((await flags(c, 'idle')).paused).toBe(false);
    // A read-only partition refuses the publish before anything resumes it; a resume subscription
    // resumes it with its log read-only again: it reads to the end and ends as read-only.
    await expect(publish(c, 'frozen', 'frozen-1')).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'readonly partition: 0' });
    const frozen = await readResumed(c, 'frozen', api.StopPosition.STOP_ON_CANCEL);
    expect(frozen.values).toEqual(['frozen-0']);
    expect(frozen.end).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'End of readonly partition' });
    expect((await flags(c, 'frozen')).readonly).toBe(true);

    // The resumed leader's timer pauses it again; a restart keeps that, and keeps every record.
    await waitPaused(c, 'idle');
    c = await restartServer();
    expect(await flags(c, 'idle')).toEqual({ paused: true, readonly: false });
    expect((await flags(c, 'frozen')).readonly).toBe(true);
    expect(await flags(c, 'kept')).toEqual({ paused: false, readonly: false });
    const idleRead = await readResumed(c, 'idle', api.StopPosition.STOP_LATEST);
    expect(idleRead.values).toEqual(['idle-0', 'idle-1']);
    expect((await flags(c, 'idle')).paused).toBe(false);
  }, 60_000);
});
