import { seededPrng } from '../../src/domain/shared/prng';
import type { Prng } from '../../src/domain/shared/prng';
import { replayCommand } from '../support/seeds';
import type { SeedReplay } from '../support/seeds';
import { HEALTHY_NETWORK } from './simulated-network';
import { SimulatedCluster } from './simulated-cluster';
import type { ClusterOptions, SimulatedServer } from './simulated-cluster';

/** Random steps per seed before the world heals (RAFT_SIM_STEPS overrides it). */
export const STEPS_PER_SEED = 500;

/** How one seed is replayed (printed with every failure). */
export const raftSimulationReplay = (steps: number = STEPS_PER_SEED): SeedReplay => ({
  seedEnv: 'RAFT_SIM_SEED',
  spec: 'test/simulation/raft-cluster',
  settings: steps === STEPS_PER_SEED ? [] : [`RAFT_SIM_STEPS=${steps}`],
});

/** Virtual time the healed cluster gets to apply one more proposal everywhere. */
const LIVENESS_DEADLINE_MS = 30_000;
const TICK_MS = 10;
/** A refused or lost final proposal is retried after this long. */
const RETRY_MS = 1_000;

export interface SeedSummary {
  readonly seed: number;
  readonly servers: number;
  readonly virtualMs: number;
  readonly committed: number;
  readonly leadersElected: number;
  readonly crashes: number;
  readonly savesLost: number;
  readonly proposalsAccepted: number;
  readonly messagesSent: number;
  readonly messagesDropped: number;
  readonly messagesDuplicated: number;
}

const pick = <T>(prng: Prng, items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[prng.nextInt(items.length)]);

/** Everything about the cluster that varies per seed. */
function drawOptions(prng: Prng): ClusterOptions {
  const size = 3 + prng.nextInt(3);
  const electionTicks = 5 + prng.nextInt(6);
  return {
    ids: Array.from({ length: size }, (_, i) => `n${i + 1}`),
    raft: {
      electionTicks,
      heartbeatTicks: 1 + prng.nextInt(2),
      preVote: prng.nextInt(4) !== 0,
      checkQuorum: prng.nextInt(4) !== 0,
      appendEntriesMax: 1 + prng.nextInt(8),
      inflightMessagesMax: 1 + prng.nextInt(4),
      entryBytesMax: 1024,
      uncommittedEntriesMax: 20 + prng.nextInt(40),
      committedEntriesPerReadyMax: 1 + prng.nextInt(16),
    },
    driver: {
      tickMs: TICK_MS,
      // Sometimes small enough that bursts overflow it (dropped and counted, which Raft tolerates).
      messagesQueuedMax: prng.nextInt(4) === 0 ? 4 + prng.nextInt(8) : 256,
      proposalsQueuedMax: 8,
    },
    diskLatencyMaxMs: prng.nextInt(9),
  };
}

/** Splits the servers into two to three random non-empty groups. */
function randomPartition(prng: Prng, servers: readonly SimulatedServer[]): string[][] {
  const groups = servers.length > 3 && prng.nextInt(3) === 0 ? 3 : 2;
  const shuffled = servers.map((s) => ({ id: s.id, key: prng.nextUint32() })).sort((a, b) => a.key - b.key);
  const result: string[][] = Array.from({ length: groups }, () => []);
  shuffled.forEach(({ id }, i) => (result[i < groups ? i : prng.nextInt(groups)] as string[]).push(id));
  return result;
}

/** One random step: mostly time passing, with proposals and faults in between. */
async function step(cluster: SimulatedCluster, prng: Prng, seed: number, n: number): Promise<void> {
  const servers = cluster.servers;
  const up = servers.filter((s) => s.up);
  const r = prng.nextInt(100);
  let advanceMs = 0;
  if (r < 62) {
    advanceMs = 1 + prng.nextInt(2 * TICK_MS);
  } else if (r < 80) {
    const leader = cluster.leader();
    const target = leader !== null && prng.nextInt(10) < 9 ? leader : pick(prng, up);
    if (target !== undefined) void cluster.propose(target, `s${seed}p${n}`);
  } else if (r < 84) {
    const delayMinMs = 1 + prng.nextInt(5);
    cluster.network.faults = {
      lossPercent: prng.nextInt(3) === 0 ? 0 : prng.nextInt(30),
      duplicatePercent: prng.nextInt(20),
      delayMinMs,
      delayMaxMs: delayMinMs + prng.nextInt(4 * TICK_MS),
    };
    cluster.note(`network ${JSON.stringify(cluster.network.faults)}`);
  } else if (r < 88) {
    if (cluster.network.partitioned && prng.nextInt(2) === 0) {
      cluster.network.heal();
      cluster.note('partition healed');
    } else {
      const groups = randomPartition(prng, servers);
      cluster.network.partition(groups);
      cluster.note(`partition ${groups.map((g) => g.join(',')).join(' | ')}`);
    }
  } else if (r < 90) {
    // Half the crashes hit a server in the middle of a save, when there is one: the write is lost.
    const midSave = up.filter((s) => s.savePending);
    const victim = midSave.length > 0 && prng.nextInt(2) === 0 ? pick(prng, midSave) : pick(prng, up);
    if (victim !== undefined) {
      const saving = victim.savePending;
      cluster.crash(victim);
      cluster.note(`${victim.id} crashed${saving ? ', losing a pending save' : ''}`);
    }
  } else if (r < 96) {
    const down = pick(
      prng,
      servers.filter((s) => !s.up),
    );
    if (down !== undefined) {
      cluster.restart(down);
      cluster.note(`${down.id} restarted`);
    }
  } else {
    const candidate = pick(prng, up);
    if (candidate !== undefined) {
      candidate.current?.driver.campaign();
      cluster.note(`${candidate.id} campaigns`);
    }
  }
  await cluster.runFor(advanceMs);
}

/** One try of the final proposal: the leader's term, when, and whether it was appended (null: no answer yet). */
interface FinalAttempt {
  readonly term: number;
  readonly atMs: number;
  accepted: boolean | null;
}

/** Heals everything and requires one more proposal to be applied by every server. */
async function requireLiveness(cluster: SimulatedCluster, seed: number): Promise<void> {
  cluster.network.heal();
  cluster.network.faults = HEALTHY_NETWORK;
  for (const server of cluster.servers) if (!server.up) cluster.restart(server);
  cluster.note('healed: all servers up, no partition, no loss');
  const data = `s${seed}final`;
  const deadline = cluster.clock.nowMs + LIVENESS_DEADLINE_MS;
  // A client retrying: again when the leader changes, when it refused, or after a while without effect.
  let attempt: FinalAttempt | null = null;
  const appliedEverywhere = (): boolean => cluster.servers.every((s) => s.applied.some((e) => e.data === data));
  while (!appliedEverywhere()) {
    if (cluster.clock.nowMs >= deadline) {
      const where = cluster.servers.map((s) => `${s.id}: ${JSON.stringify(s.status())} applied ${s.applied.length}`).join('\n  ');
      throw new Error(`liveness: ${LIVENESS_DEADLINE_MS} ms after healing, ${data} is not applied by every server\n  ${where}`);
    }
    const leader = cluster.leader();
    const term = leader?.status()?.term ?? -1;
    const retry = attempt === null || attempt.term !== term || attempt.accepted === false || cluster.clock.nowMs - attempt.atMs >= RETRY_MS;
    if (leader !== null && retry) {
      const current: FinalAttempt = { term, atMs: cluster.clock.nowMs, accepted: null };
      attempt = current;
      void cluster.propose(leader, data).then((accepted) => (current.accepted = accepted));
    }
    await cluster.runFor(5 * TICK_MS);
  }
}

/**
 * Runs one seed: a cluster of 3–5 servers with seed-drawn settings, `steps` random steps with the
 * invariants checked after every timer instant, then the liveness check. Throws an Error naming the
 * seed, the step, the replay command and the recent trace when anything breaks.
 */
export async function simulateSeed(seed: number, steps: number = STEPS_PER_SEED): Promise<SeedSummary> {
  const prng = seededPrng(seed);
  const options = drawOptions(prng);
  const cluster = new SimulatedCluster(prng, options);
  let n = 0;
  try {
    for (const server of cluster.servers) cluster.restart(server);
    for (; n < steps; n++) await step(cluster, prng, seed, n);
    await requireLiveness(cluster, seed);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      [
        `raft simulation seed ${seed} failed at step ${n} (t=${cluster.clock.nowMs} ms): ${message}`,
        `replay: ${replayCommand(raftSimulationReplay(steps), seed)}`,
        `cluster: ${JSON.stringify(options)}`,
        'recent events:',
        ...cluster.trace.map((line) => `  ${line}`),
      ].join('\n'),
    );
  }
  return {
    seed,
    servers: options.ids.length,
    virtualMs: cluster.clock.nowMs,
    committed: cluster.invariants.committedCount,
    leadersElected: cluster.invariants.leadersElected,
    crashes: cluster.counts.crashes,
    savesLost: cluster.counts.savesLost,
    proposalsAccepted: cluster.counts.proposalsAccepted,
    messagesSent: cluster.network.counts.sent,
    messagesDropped: cluster.network.counts.dropped,
    messagesDuplicated: cluster.network.counts.duplicated,
  };
}
