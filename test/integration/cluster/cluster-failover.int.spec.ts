import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient, call, connectClient } from '../../support/api-calls';
import { BrokerProcess } from '../../support/broker-process';
import { TestNatsServer } from '../../support/nats-server';
import { freePort, waitFor } from '../../support/ports';

/**
 * Clustered metadata (docs/cluster.md) against real processes: three `liftbridge` executables and one nats-server on loopback.
 * The controller is killed with SIGKILL ten times; each time a new controller must be elected,
 * metadata requests must work again, every stream must still be listed everywhere, and the killed
 * server must catch up after its restart — from a snapshot once the others compacted their logs
 * (the snapshot threshold is 8 entries here). Failover times are written to
 * .tmp/cluster-failover.json and reported in docs/cluster.md.
 */
const KILLS = 10;
const SNAPSHOT_THRESHOLD = 8;
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];

let nats: TestNatsServer;
const namespace = `ns${Math.floor(Math.random() * 1e9)}`;
const dirs = new Map<Id, string>();
const ports = new Map<Id, number>();
const running = new Map<Id, BrokerProcess>();
const everyProcess: BrokerProcess[] = [];
const clients = new Map<Id, ApiClient>();
const env = { ...process.env, LIFTBRIDGE_CLUSTERING_RAFT_SNAPSHOT_THRESHOLD: String(SNAPSHOT_THRESHOLD) };

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

/** Log lines of a process, parsed (pino JSON). */
const lines = (broker: BrokerProcess): { msg?: string; time?: number }[] =>
  broker.logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; time?: number });

/** The server whose latest controller transition says it leads. */
function controller(): Id | undefined {
  for (const [id, broker] of running) {
    const transitions = lines(broker).filter((l) => l.msg === 'this server is now the controller' || l.msg === 'this server is no longer the controller');
    if (transitions.at(-1)?.msg === 'this server is now the controller') return id;
  }
  return undefined;
}

const streamNames = async (id: Id): Promise<string[]> =>
  (await call(clients.get(id)!.fetchMetadata, clients.get(id)!, {}, 2000)).streamMetadata.map((s) => s.name).sort();

let created: string[] = [];
async function createStream(via: Id, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await call(clients.get(via)!.createStream, clients.get(via)!, { name, subject: name }, 3000);
      created.push(name);
      created.sort();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

beforeAll(async () => {
  nats = await TestNatsServer.start();
  for (const id of ids) {
    dirs.set(id, fs.mkdtempSync(path.join(os.tmpdir(), `lbts-cluster-${id}-`)));
    ports.set(id, await freePort());
  }
  for (const id of ids) await start(id);
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  for (const p of everyProcess) await p.kill();
  await nats?.stop();
  for (const dir of dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

describe('three liftbridge processes', () => {
  it(`survive ${KILLS} kill -9s of the controller without losing metadata`, async () => {
    for (const id of ids) await createStream(id, `initial-${id}`, 10_000);
    const electionMs: number[] = [];
    const availableMs: number[] = [];
    let snapshotCatchUps = 0;

    for (let round = 1; round <= KILLS; round++) {
      await waitFor(() => controller() !== undefined, 10_000, 'a controller');
      const victim = controller()!;
      const survivors = ids.filter((id) => id !== victim);
      const killedAt = Date.now();
      await running.get(victim)!.kill();
      running.delete(victim);

      await waitFor(() => controller() !== undefined, 15_000, `a new controller after killing ${victim}`);
      electionMs.push(Date.now() - killedAt);
      await createStream(survivors[round % 2]!, `round-${round}`, 15_000);
      availableMs.push(Date.now() - killedAt);

      // Enough entries that the survivors compact past what the victim has.
      for (let i = 0; i < SNAPSHOT_THRESHOLD + 2; i++) await createStream(survivors[i % 2]!, `round-${round}-extra-${i}`, 10_000);
      // The server that took a request has applied it; the others apply it moments later.
      for (const id of survivors) await waitFor(async () => (await streamNames(id)).join() === created.join(), 5000, `${id} to list every stream`);

      await start(victim);
      await waitFor(async () => (await streamNames(victim)).join() === created.join(), 15_000, `${victim} to catch up`);
      if (lines(running.get(victim)!).some((l) => /snapshot/i.test(l.msg ?? '') && /restor|install/i.test(l.msg ?? ''))) snapshotCatchUps++;
    }

    for (const id of ids) await waitFor(async () => (await streamNames(id)).join() === created.join(), 5000, `${id} to list every stream`);
    for (const id of ids) expect(await streamNames(id)).toEqual(created);
    expect(snapshotCatchUps).toBeGreaterThan(0);
    const report = {
      kills: KILLS,
      electionMs: { p50: percentile(electionMs, 50), max: Math.max(...electionMs), all: electionMs },
      metadataAvailableAgainMs: { p50: percentile(availableMs, 50), max: Math.max(...availableMs), all: availableMs },
      snapshotCatchUps,
    };
    fs.mkdirSync(path.resolve(__dirname, '../../../.tmp'), { recursive: true });
    fs.writeFileSync(path.resolve(__dirname, '../../../.tmp/cluster-failover.json'), JSON.stringify(report, null, 2));
  }, 300_000);
});
