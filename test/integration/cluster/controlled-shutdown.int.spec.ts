import * as fs from 'node:fs';
import * as path from 'node:path';
import * as api from '../../../src/protocol/api-types';
import { AckPolicy, LiftbridgeClient } from '../../../src/client';
import { call, connectClient, subscribe } from '../../support/api-calls';
import type { BrokerProcess } from '../../support/broker-process';
import { freePort, waitFor } from '../../support/ports';
import { ProcessCluster } from '../../support/process-cluster';

/**
 * Controlled shutdown (docs/cluster.md "Controlled shutdown") against real processes: three `liftbridge` executables and
 * a nats-server on loopback, default timings.
 * - SIGTERM of a partition leader under a steady AckPolicy ALL load through the TS client: the
 *   largest gap between two consecutive acks stays ≤ 1 s, no acknowledged message is lost, and the
 *   process exits 0 promptly.
 * - SIGTERM of the controller while streams are being created: a new controller is in place, and
 *   stream creation goes on, within 1 s.
 * - SIGTERM of a follower: it leaves the ISR at once and is not taken back on the strength of its
 *   last fetches, so an ALL publish after a pause is acked at once (not after replica.max.lag.time).
 * Each is repeated (SHUTDOWN_ROUNDS, default 3; the stopped server restarts in between); the
 * figures go to .tmp/controlled-shutdown.json (docs/operability.md).
 */
const ROUNDS = Number(process.env.SHUTDOWN_ROUNDS ?? 3);
const GAP_MAX_MS = 1000;
const ids = ['a', 'b', 'c'] as const;
type Id = (typeof ids)[number];

let cluster: ProcessCluster<Id>;
/** The operability HTTP port of each server: its /metrics say whether it is the controller. */
const httpPorts = new Map<Id, number>();
const running = (): Map<Id, BrokerProcess> => cluster.running;
const report: Record<string, unknown> = {};
/** Loads and clients a test started, stopped in afterAll even when the test failed halfway. */
const cleanups: (() => Promise<void> | void)[] = [];

async function start(id: Id): Promise<void> {
  await cluster.start(id, { ...process.env, LIFTBRIDGE_HTTP_PORT: String(httpPorts.get(id)!) });
}

/** SIGTERM; resolves with the exit code and how long the process took to exit. */
async function terminate(id: Id): Promise<{ code: number | null; exitMs: number; logs: string }> {
  const broker = running().get(id)!;
  const sentAt = Date.now();
  const ended = await broker.stop('SIGTERM');
  running().delete(id);
  return { code: ended.code, exitMs: Date.now() - sentAt, logs: broker.logs };
}

async function isController(id: Id): Promise<boolean> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPorts.get(id)!}/metrics`)).text();
    return /^liftbridge_metadata_controller 1$/m.test(text);
  } catch {
    return false;
  }
}

async function partitionOf(stream: string): Promise<api.PartitionMetadata | null> {
  for (const id of running().keys()) {
    const client = connectClient(running().get(id)!.address);
    try {
      const m = await call(client.fetchMetadata, client, { streams: [stream] }, 1000);
      const p = m.streamMetadata[0]?.partitions[0];
      if (p) return p;
    } catch {
      // the next server
    } finally {
      client.close();
    }
  }
  return null;
}

/** The partition's leader role runs: it answers FetchPartitionMetadata (then it also listens on the subject). */
async function leaderServes(stream: string): Promise<boolean> {
  const leader = (await partitionOf(stream))?.leader as Id | undefined;
  if (leader === undefined || !running().has(leader)) return false;
  const client = connectClient(running().get(leader)!.address);
  try {
    await call(client.fetchPartitionMetadata, client, { stream, partition: 0 }, 1000);
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Three brokers registered and reachable, as every server sees it. */
async function fullCluster(): Promise<void> {
  await waitFor(async () => {
    for (const broker of running().values()) {
      const client = connectClient(broker.address);
      try {
        if ((await call(client.fetchMetadata, client, {}, 1000)).brokers.length !== 3) return false;
      } catch {
        return false;
      } finally {
        client.close();
      }
    }
    return running().size === 3;
  }, 30_000, 'three reachable brokers');
}

const stats = (values: readonly number[]): { min: number; median: number; max: number; all: readonly number[] } => {
  const sorted = [...values].sort((x, y) => x - y);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted[sorted.length - 1]!, all: values };
};

/** Largest time between consecutive instants within [from, to]. */
function largestGap(times: readonly number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t <= to);
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return Math.max(gap, (inside[0] ?? to) - from, to - (inside[inside.length - 1] ?? from));
}

beforeAll(async () => {
  cluster = await ProcessCluster.create(ids, 'cs');
  for (const id of ids) httpPorts.set(id, await freePort());
  for (const id of ids) await start(id);
  await fullCluster();
}, 90_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await Promise.resolve(cleanup()).catch(() => undefined);
  await cluster?.stop();
  fs.mkdirSync(path.resolve(__dirname, '../../../.tmp'), { recursive: true });
  fs.writeFileSync(path.resolve(__dirname, '../../../.tmp/controlled-shutdown.json'), JSON.stringify(report, null, 2));
});

describe('controlled shutdown of a cluster member', () => {
  it(`SIGTERM of the partition leader under AckPolicy ALL load: acks pause ≤ ${GAP_MAX_MS} ms, nothing acknowledged is lost (${ROUNDS} rounds)`, async () => {
    const client = await LiftbridgeClient.connect({ servers: ids.map((id) => running().get(id)!.address) });
    await client.createStream('load', 'load', { replicationFactor: 3, minIsr: 2 });
    await waitFor(() => leaderServes('load'), 30_000, 'the leader serving');
    const publisher = client.asyncPublisher({ maxInFlight: 1024 });
    const acked: { value: string; offset: number }[] = [];
    const ackTimes: number[] = [];
    let publishing = true;
    let sent = 0;
    const load = (async () => {
      while (publishing) {
        const value = `m${sent++}`;
        const ticket = await publisher.send('load', value, { ackPolicy: AckPolicy.ALL }).catch(() => null);
        ticket?.ack.then(
          (ack) => {
            acked.push({ value, offset: Number(ack!.offset) });
            ackTimes.push(Date.now());
          },
          () => undefined, // not acknowledged (lost in the hand-over or refused): nothing promised
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    cleanups.push(async () => {
      publishing = false;
      await load;
      client.close();
    });

    const gaps: number[] = [];
    const exits: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await waitFor(async () => (await partitionOf('load'))?.isr.length === 3 && ackTimes.length > 0 && Date.now() - ackTimes[ackTimes.length - 1]! < 100, 60_000, `a full ISR and acks flowing (round ${round})`);
      const leader = (await partitionOf('load'))!.leader as Id;
      const signalledAt = Date.now();
      const ended = await terminate(leader);
      await waitFor(() => ackTimes[ackTimes.length - 1]! > signalledAt + 1500, 60_000, `acks after the leader's SIGTERM (round ${round})`);
      const gap = largestGap(ackTimes, signalledAt - 200, ackTimes.find((t) => t > signalledAt + 1500)!);
      gaps.push(gap);
      exits.push(ended.exitMs);
      report['partitionLeader'] = { rounds: round, ackGapMs: stats(gaps), exitMs: stats(exits) };
      expect(ended.code).toBe(0);
      expect(ended.logs).toMatch(/"handedOver":1,.*"msg":"controlled shutdown: leadership handed over"/);
      expect(gap).toBeLessThanOrEqual(GAP_MAX_MS);
      expect(ended.exitMs).toBeLessThan(2000);
      await start(leader);
    }
    publishing = false;
    await load;
    await publisher.close(10_000);

    // Every acknowledged message is on the leader, once, at the offset its ack named.
    await waitFor(async () => (await partitionOf('load'))?.isr.length === 3, 60_000, 'a full ISR at the end');
    const leader = (await partitionOf('load'))!.leader as Id;
    const raw = connectClient(running().get(leader)!.address);
    const positions = async (): Promise<api.PartitionMetadata> => (await call(raw.fetchPartitionMetadata, raw, { stream: 'load', partition: 0 })).metadata!;
    await waitFor(async () => (await positions()).highWatermark === (await positions()).newestOffset, 30_000, 'everything committed');
    const hw = Number((await positions()).highWatermark);
    const sub = subscribe(raw, { stream: 'load', startPosition: api.StartPosition.EARLIEST });
    const messages = (await sub.waitFor(hw + 1, 30_000)).slice(0, hw + 1);
    sub.cancel();
    await sub.done;
    raw.close();
    client.close();
    const values = messages.map((m) => Buffer.from(m.value).toString());
    const lost = acked.filter((a) => values[a.offset] !== a.value);
    expect(acked.length).toBeGreaterThan(ROUNDS * 500);
    expect(lost).toEqual([]);
    expect(new Set(acked.map((a) => a.offset)).size).toBe(acked.length);
    report['partitionLeader'] = { rounds: ROUNDS, acknowledged: acked.length, sent, lostAcknowledged: lost.length, ackGapMs: stats(gaps), exitMs: stats(exits) };
  }, 600_000);

  it('SIGTERM of a follower: it leaves the ISR, and an ALL publish after an idle while is acked at once', async () => {
    const client = await LiftbridgeClient.connect({ servers: ids.map((id) => running().get(id)!.address) });
    cleanups.push(() => client.close());
    await client.createStream('quiet', 'quiet', { replicationFactor: 3, minIsr: 2 });
    await waitFor(async () => (await partitionOf('quiet'))?.isr.length === 3 && (await leaderServes('quiet')), 30_000, 'a full ISR and the leader serving');
    await client.publish('quiet', 'first', { ackPolicy: AckPolicy.ALL });
    const p = (await partitionOf('quiet'))!;
    const follower = p.replicas.find((id) => id !== p.leader) as Id;
    const ended = await terminate(follower);
    expect(ended.code).toBe(0);
    expect((await partitionOf('quiet'))!.isr).not.toContain(follower);
    // The leader checks its followers every replica.max.lag.time / 4 (3.75 s by default): let one
    // check pass, so that a re-admission on the strength of the follower's last fetches would show.
    const quietUntil = Date.now() + 4000;
    await waitFor(() => Date.now() >= quietUntil, 5000, 'a quiet while');
    const publishedAt = Date.now();
    await client.publish('quiet', 'second', { ackPolicy: AckPolicy.ALL, timeoutMs: 3000 });
    const ackMs = Date.now() - publishedAt;
    expect((await partitionOf('quiet'))!.isr).not.toContain(follower);
    expect(ackMs).toBeLessThan(1000);
    report['follower'] = { ackAfterIdleMs: ackMs, exitMs: ended.exitMs };
    client.close();
    await start(follower);
    await fullCluster();
  }, 120_000);

  it(`SIGTERM of the controller while streams are created: a new controller and the next stream within ${GAP_MAX_MS} ms (${ROUNDS} rounds)`, async () => {
    const handovers: number[] = [];
    const createGaps: number[] = [];
    const exits: number[] = [];
    let n = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      await fullCluster();
      let controller: Id | null = null;
      await waitFor(async () => {
        for (const id of ids) if (running().has(id) && (await isController(id))) controller = id;
        return controller !== null;
      }, 30_000, 'a controller');
      const victim = controller! as Id;
      const others = ids.filter((id) => id !== victim);
      const client = await LiftbridgeClient.connect({ servers: others.map((id) => running().get(id)!.address) });
      const created: number[] = [];
      let creating = true;
      const creator = (async () => {
        while (creating) {
          const name = `s${round}x${n++}`;
          await client.createStream(name, name, { replicationFactor: 2 }).then(() => created.push(Date.now()), () => undefined);
        }
      })();
      cleanups.push(async () => {
        creating = false;
        await creator;
        client.close();
      });
      await waitFor(() => created.length >= 3, 30_000, 'streams being created');
      const signalledAt = Date.now();
      const stopping = terminate(victim);
      let newControllerAt = 0;
      await waitFor(async () => {
        for (const id of others) if (await isController(id)) newControllerAt = Date.now();
        return newControllerAt > 0;
      }, 30_000, 'a new controller');
      const ended = await stopping;
      await waitFor(() => created[created.length - 1]! > signalledAt + 1500, 60_000, `streams created after the controller's SIGTERM (round ${round})`);
      creating = false;
      await creator;
      client.close();
      handovers.push(newControllerAt - signalledAt);
      createGaps.push(largestGap(created, signalledAt - 200, created.find((t) => t > signalledAt + 1500)!));
      exits.push(ended.exitMs);
      report['controller'] = { rounds: round, newControllerMs: stats(handovers), createGapMs: stats(createGaps), exitMs: stats(exits) };
      expect(ended.code).toBe(0);
      expect(ended.logs).toMatch(/"controller":"handed-over"/);
      expect(newControllerAt - signalledAt).toBeLessThanOrEqual(GAP_MAX_MS);
      if (createGaps[createGaps.length - 1]! > GAP_MAX_MS) {
        // Say what the servers logged: a gap here is rare and needs its timeline to be understood.
        const warnings = (logs: string): string => logs.split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-20).join('\n');
        const servers = [`${victim} (stopped)\n${warnings(ended.logs)}`, ...others.filter((id) => running().has(id)).map((id) => `${id}\n${warnings(running().get(id)!.logs)}`)];
        throw new Error(`stream creation stopped for ${createGaps[createGaps.length - 1]} ms (SIGTERM at ${signalledAt}, created at ${created.join(', ')}); warnings:\n${servers.join('\n')}`);
      }
      await start(victim);
    }
  }, 600_000);
});
