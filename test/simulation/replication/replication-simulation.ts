import { seededPrng } from '../../../src/domain/shared/prng';
import type { Prng } from '../../../src/domain/shared/prng';
import { HEALTHY_REPLICATION } from './faulty-replication-transport';
import type { ReplicationOptions, SimulatedReplica } from './replica-roles';
import { ReplicationCluster } from './replication-cluster';

/** Random steps per seed before the world heals (REPL_SIM_STEPS overrides it). */
export const STEPS_PER_SEED = 300;

export const replayCommand = (seed: number, steps: number = STEPS_PER_SEED): string =>
  `${steps === STEPS_PER_SEED ? '' : `REPL_SIM_STEPS=${steps} `}REPL_SIM_SEED=${seed} npx jest test/simulation/replication`;

/** Virtual time the healed partition gets to commit and ack one more record everywhere. */
const LIVENESS_DEADLINE_MS = 30_000;
const RETRY_MS = 1_000;

export interface SeedSummary {
  readonly seed: number;
  readonly replicas: number;
  readonly virtualMs: number;
  readonly produced: number;
  readonly acked: number;
  readonly committed: number;
  readonly crashes: number;
  readonly recordsLost: number;
  readonly failovers: number;
  readonly isrShrinks: number;
  readonly isrExpands: number;
  readonly truncations: number;
  readonly requestsLost: number;
}

const pick = <T>(prng: Prng, items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[prng.nextInt(items.length)]);

function drawOptions(prng: Prng): ReplicationOptions {
  const size = prng.nextInt(4) === 0 ? 3 + prng.nextInt(3) : 3;
  const fetchWaitMs = 10 + prng.nextInt(60);
  return {
    ids: Array.from({ length: size }, (_, i) => `r${i + 1}`),
    minIsr: 1 + prng.nextInt(2),
    maxLagTimeMs: 80 + prng.nextInt(300),
    fetchWaitMs,
    fetchTimeoutMs: fetchWaitMs + 20 + prng.nextInt(100),
    // Header included (docs/replication.md): one ~90-byte entry always fits, as the publish screen guarantees.
    replyBytesMax: 24 + 128 + prng.nextInt(400),
    syncLatencyMaxMs: prng.nextInt(12),
  };
}

/** One random step: mostly time passing and produces, with faults in between. */
async function step(cluster: ReplicationCluster, prng: Prng, n: number): Promise<void> {
  const replicas = cluster.replicas;
  const up = replicas.filter((r) => r.up);
  const r = prng.nextInt(100);
  let advanceMs = 0;
  if (r < 52) {
    advanceMs = 1 + prng.nextInt(30);
  } else if (r < 74) {
    // Mostly the current leader; sometimes a stale leader still running its old role (cut off).
    const current = cluster.replica(cluster.metadata.leader);
    const stale = replicas.filter((x) => x.current?.role?.kind === 'leader' && x !== current);
    const target = stale.length > 0 && prng.nextInt(4) === 0 ? pick(prng, stale) : current;
    if (target !== undefined) cluster.produce(target, 1 + prng.nextInt(3), `p${n}`);
  } else if (r < 78) {
    const delayMinMs = prng.nextInt(4);
    cluster.network.faults = {
      lossPercent: prng.nextInt(3) === 0 ? 0 : prng.nextInt(25),
      delayMinMs,
      delayMaxMs: delayMinMs + prng.nextInt(40),
    };
    cluster.note(`network ${JSON.stringify(cluster.network.faults)}`);
  } else if (r < 82) {
    const cut = replicas.filter((x) => !x.reachable);
    const victim = cut.length === 0 || prng.nextInt(3) === 0 ? pick(prng, replicas.filter((x) => x.reachable)) : undefined;
    if (victim !== undefined) {
      cluster.setReachable(victim, false);
      cluster.note(`${victim.id} partitioned away`);
    } else {
      const healed = pick(prng, cut)!;
      cluster.setReachable(healed, true);
      cluster.note(`${healed.id} reachable again`);
    }
  } else if (r < 85) {
    // Half the crashes hit a replica with an fsync in flight: its unsynced writes are lost.
    const syncing = up.filter((x) => x.log?.syncPending === true);
    const victim = syncing.length > 0 && prng.nextInt(2) === 0 ? pick(prng, syncing) : pick(prng, up);
    if (victim !== undefined) {
      const lost = cluster.crash(victim);
      cluster.note(`${victim.id} crashed${lost > 0 ? `, losing ${lost} unsynced records` : ''}`);
    }
  } else if (r < 93) {
    const down = pick(prng, replicas.filter((x) => !x.up));
    if (down !== undefined) {
      cluster.restart(down);
      cluster.note(`${down.id} restarted (${cluster.positions()})`);
    }
  } else {
    // The controller notices a failed leader (down or cut off); now and then it suspects a healthy one.
    const leader = cluster.replica(cluster.metadata.leader);
    if (!leader.up || !leader.reachable || prng.nextInt(4) === 0) cluster.failover(leader.id, leader.up ? (leader.reachable ? 'suspected' : 'cut off') : 'down');
  }
  await cluster.runFor(advanceMs);
}

/** Heals everything, then requires one more record to be ALL-acked and every replica's high watermark to cover it. */
async function requireCatchUp(cluster: ReplicationCluster): Promise<void> {
  cluster.network.faults = HEALTHY_REPLICATION;
  for (const replica of cluster.replicas) if (!replica.reachable) cluster.setReachable(replica, true);
  for (const replica of cluster.replicas) if (!replica.up) cluster.restart(replica);
  const leader = cluster.replica(cluster.metadata.leader);
  cluster.note(`healed: all replicas up and reachable, no loss (${cluster.positions()})`);
  const deadline = cluster.clock.nowMs + LIVENESS_DEADLINE_MS;
  const ackedBefore = cluster.invariants.ackedCount;
  let lastTryMs = -Infinity;
  const caughtUp = (): boolean => {
    if (cluster.invariants.ackedCount === ackedBefore) return false;
    const acked = cluster.invariants.ackedMax;
    return cluster.replicas.every((r: SimulatedReplica) => (r.log?.highWatermark ?? -1) >= acked);
  };
  while (!caughtUp()) {
    if (cluster.clock.nowMs >= deadline) {
      throw new Error(`liveness: ${LIVENESS_DEADLINE_MS} ms after healing, no new ALL ack covered by every replica's high watermark (${cluster.positions()}; isr ${cluster.metadata.isr.join(',')})`);
    }
    if (cluster.invariants.ackedCount === ackedBefore && cluster.clock.nowMs - lastTryMs >= RETRY_MS && cluster.produce(leader, 1, 'final')) lastTryMs = cluster.clock.nowMs;
    await cluster.runFor(20);
  }
  cluster.invariants.checkFinal(cluster.replicas);
  cluster.check();
}

/**
 * Runs one seed: 3–5 replicas with seed-drawn settings, `steps` random steps with the checkers run
 * after every timer instant, then the catch-up check. Throws an Error naming the seed, the step, the
 * replay command and the recent trace when anything breaks.
 */
export async function simulateSeed(seed: number, steps: number = STEPS_PER_SEED): Promise<SeedSummary> {
  const prng = seededPrng(seed);
  const options = drawOptions(prng);
  const cluster = new ReplicationCluster(prng, options, `s${seed}`);
  let n = 0;
  try {
    for (const replica of cluster.replicas) cluster.restart(replica);
    for (; n < steps; n++) await step(cluster, prng, n);
    await requireCatchUp(cluster);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      [
        `replication simulation seed ${seed} failed at step ${n} (t=${cluster.clock.nowMs} ms): ${message}`,
        `replay: ${replayCommand(seed, steps)}`,
        `partition: ${JSON.stringify(options)}`,
        `metadata: ${JSON.stringify(cluster.metadata)}`,
        `controller: ${JSON.stringify(cluster.controller.counts)}`,
        `replicas: ${cluster.positions()}`,
        'recent events:',
        ...cluster.trace.map((line) => `  ${line}`),
      ].join('\n'),
    );
  }
  return {
    seed,
    replicas: options.ids.length,
    virtualMs: cluster.clock.nowMs,
    produced: cluster.counts.produced,
    acked: cluster.invariants.ackedCount,
    committed: cluster.invariants.committedCount,
    crashes: cluster.counts.crashes,
    recordsLost: cluster.counts.recordsLost,
    failovers: cluster.controller.counts.failovers,
    isrShrinks: cluster.controller.counts.isrShrinks,
    isrExpands: cluster.controller.counts.isrExpands,
    truncations: cluster.invariants.truncations,
    requestsLost: cluster.network.counts.lost,
  };
}
