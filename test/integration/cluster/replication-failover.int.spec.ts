import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { FilesystemPartitionLogStore } from '../../../src/adapters/outbound/filesystem/commit-log/filesystem-partition-log-store';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { silentLogger } from '../../support/memory-broker';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * Partition replication (docs/replication.md) against real processes: three `liftbridge` executables and a nats-server on loopback, a
 * stream with replicationFactor 3 and minIsr 2 under a steady AckPolicy ALL publish load. The
 * partition leader is killed with SIGKILL 25 times; each time a new leader takes over and the
 * killed server is restarted and rejoins the ISR. Afterwards every acknowledged message must be
 * readable exactly once at the offset its ack named, with its content, on every replica; offsets
 * are contiguous; the replicas' logs are byte-identical up to the high watermark. Failover times
 * are written to .tmp/replication-failover.json (docs/replication.md).
 */
const KILLS = Number(process.env.REPLICATION_KILLS ?? 25);
const WORKERS = 4;
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];

let nats: TestNatsServer;
const namespace = `rf${Math.floor(Math.random() * 1e9)}`;
const dirs = new Map<Id, string>();
const ports = new Map<Id, number>();
const running = new Map<Id, BrokerProcess>();
const everyProcess: BrokerProcess[] = [];
const clients = new Map<Id, ApiClient>();
const env = {
  ...process.env,
  LIFTBRIDGE_CLUSTERING_BROKER_TIMEOUT: '1500ms',
  LIFTBRIDGE_CLUSTERING_BROKER_HEARTBEAT_INTERVAL: '250ms',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_LAG_TIME: '4s',
  LIFTBRIDGE_CLUSTERING_REPLICA_MAX_IDLE_WAIT: '1s',
};

const args = (id: Id): string[] => [
  '--id', id,
  '--namespace', namespace,
  '--data-dir', dirs.get(id)!,
  '--port', String(ports.get(id)!),
  '--nats-servers', nats.url,
  ...(id === 'a' ? ['--raft-bootstrap-seed'] : []),
];

async function start(id: Id): Promise<void> {
  const broker = await BrokerProcess.start(args(id), ports.get(id)!, env);
  everyProcess.push(broker);
  running.set(id, broker);
  clients.get(id)?.close();
  clients.set(id, connectClient(broker.address));
}

const live = (): Id[] => ids.filter((id) => running.has(id));

async function partitionMeta(): Promise<api.PartitionMetadata | null> {
  for (const id of live()) {
    try {
      const m = await call(clients.get(id)!.fetchMetadata, clients.get(id)!, { streams: ['load'] }, 1000);
      const p = m.streamMetadata[0]?.partitions[0];
      if (p) return p;
    } catch {
      // try the next server
    }
  }
  return null;
}

/** Publishers: each message value is unique per attempt, so a retried message never looks like a duplicate. */
interface Acked {
  readonly value: string;
  readonly offset: number;
}
const acked: Acked[] = [];
let lastAckAt = 0;
let publishing = true;

async function worker(w: number): Promise<void> {
  let seq = 0;
  let attempt = 0;
  let turn = w;
  while (publishing) {
    const servers = live();
    if (servers.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const via = servers[turn++ % servers.length]!;
    const value = `w${w}-${seq}-${attempt}`;
    try {
      const response = await call(clients.get(via)!.publish, clients.get(via)!, {
        stream: 'load',
        value: Buffer.from(value),
        ackPolicy: api.AckPolicy.ALL,
        expectedOffset: -1n,
      }, 1000);
      acked.push({ value, offset: Number(response.ack!.offset) });
      lastAckAt = Date.now();
      seq++;
      attempt = 0;
    } catch (error) {
      attempt++;
      if ((error as grpc.ServiceError).code === undefined) throw error;
    }
  }
}

async function readReplica(id: Id, count: number): Promise<api.Message[]> {
  const sub = subscribe(clients.get(id)!, { stream: 'load', startPosition: api.StartPosition.EARLIEST, readISRReplica: true });
  try {
    return (await sub.waitFor(count, 30_000)).slice(0, count);
  } finally {
    sub.cancel();
    await sub.done;
  }
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

beforeAll(async () => {
  nats = await TestNatsServer.start();
  for (const id of ids) {
    dirs.set(id, fs.mkdtempSync(path.join(os.tmpdir(), `lbts-repl-${id}-`)));
    ports.set(id, await freePort());
  }
  for (const id of ids) await start(id);
}, 60_000);

afterAll(async () => {
  publishing = false;
  for (const c of clients.values()) c.close();
  for (const p of everyProcess) await p.kill();
  await nats?.stop();
  for (const dir of dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a replicated partition under load', () => {
  it(`loses no acknowledged message over ${KILLS} kill -9s of its leader`, async () => {
    await waitFor(async () => (await call(clients.get('c')!.fetchMetadata, clients.get('c')!, {})).brokers.length === 3, 15_000, 'three brokers');
    await call(clients.get('b')!.createStream, clients.get('b')!, { name: 'load', subject: 'load', replicationFactor: 3, minIsr: { value: 2 } });
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    const failoverMs: number[] = [];

    for (let round = 1; round <= KILLS; round++) {
      await waitFor(async () => {
        const p = await partitionMeta();
        return p !== null && p.isr.length === 3 && acked.length > 0 && Date.now() - lastAckAt < 500;
      }, 30_000, `a full ISR and acks flowing before kill ${round}`);
      const victim = (await partitionMeta())!.leader as Id;
      const killedAt = Date.now();
      await running.get(victim)!.kill();
      running.delete(victim);
      await waitFor(() => lastAckAt > killedAt, 30_000, `acks after killing leader ${victim} (round ${round})`);
      failoverMs.push(lastAckAt - killedAt);
      await start(victim);
    }

    publishing = false;
    await Promise.all(workers);
    // Every replica back in the ISR and holding everything committed.
    await waitFor(async () => (await partitionMeta())?.isr.length === 3, 30_000, 'a full ISR at the end');
    const leader = (await partitionMeta())!.leader as Id;
    // A new leader's high watermark catches up once every ISR member has reported what it holds.
    const positions = async () => (await call(clients.get(leader)!.fetchPartitionMetadata, clients.get(leader)!, { stream: 'load', partition: 0 })).metadata!;
    await waitFor(async () => {
      const m = await positions();
      return m.highWatermark === m.newestOffset;
    }, 30_000, 'everything on the leader to be committed');
    const hw = Number((await positions()).highWatermark);
    expect(hw + 1).toBeGreaterThanOrEqual(acked.length);

    const byOffset = new Map(acked.map((a) => [a.offset, a.value]));
    expect(byOffset.size).toBe(acked.length); // no offset acknowledged twice
    for (const id of ids) {
      const messages = await readReplica(id, hw + 1);
      expect(messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: hw + 1 }, (_, i) => i)); // contiguous
      const values = messages.map((m) => Buffer.from(m.value).toString());
      for (const [offset, value] of byOffset) expect(values[offset]).toBe(value);
      expect(new Set(values).size).toBe(values.length); // each message once
    }

    // Byte-identical logs up to the high watermark.
    const segments: Buffer[] = [];
    for (const id of ids) await running.get(id)!.stop();
    running.clear();
    for (const id of ids) {
      const store = new FilesystemPartitionLogStore({ dataDir: dirs.get(id)!, logger: silentLogger });
      const log = await store.open({ stream: 'load', partition: 0 }, {
        segmentMaxBytes: 256 * 1024 * 1024, segmentMaxAgeMs: 0, retentionMaxBytes: 0, retentionMaxMessages: 0, retentionMaxAgeMs: 0, syncPolicy: 'never', syncIntervalMs: 1000,
      });
      const parts: Buffer[] = [];
      for (let from = 0; from <= hw; ) {
        const batch = await log.read(from, hw, 16 * 1024 * 1024);
        if (batch === null) break;
        parts.push(batch.bytes);
        from = batch.lastOffset + 1;
      }
      await log.close();
      segments.push(Buffer.concat(parts));
    }
    expect(segments[0]!.length).toBeGreaterThan(0);
    expect(segments[1]!.equals(segments[0]!)).toBe(true);
    expect(segments[2]!.equals(segments[0]!)).toBe(true);

    const report = {
      kills: KILLS,
      acknowledged: acked.length,
      lostAcknowledged: 0,
      failoverMs: { p50: percentile(failoverMs, 50), max: Math.max(...failoverMs), all: failoverMs },
    };
    fs.mkdirSync(path.resolve(__dirname, '../../../.tmp'), { recursive: true });
    fs.writeFileSync(path.resolve(__dirname, '../../../.tmp/replication-failover.json'), JSON.stringify(report, null, 2));
  }, 600_000);
});
