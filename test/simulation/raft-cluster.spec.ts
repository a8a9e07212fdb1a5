import { envInteger, forEachSeed, itForSeedBatches, itReplaysSeed, randomSeedBase, seedBatches } from '../support/seeds';
import { STEPS_PER_SEED, raftSimulationReplay, simulateSeed } from './raft-simulation';

/**
 * Seeded deterministic simulation of a Raft cluster over the application stack (RaftDriver +
 * storage + transport adapters on a virtual clock); see docs/simulation.md.
 *
 * Default: seeds 0..999 in batches of 100, plus 50 seeds from a random base (in the test name).
 * Replay one seed:    RAFT_SIM_SEED=<seed> npx jest test/simulation/raft-cluster
 * A longer run:       RAFT_SIM_RUNS=20000 npx jest test/simulation/raft-cluster   (random seeds, batches of 100)
 * Fix the random base: RAFT_SIM_BASE=<n>; longer seeds: RAFT_SIM_STEPS=<steps> (default 500).
 */

const FIXED_SEEDS = 1000;
const RANDOM_SEEDS_DEFAULT = 50;
const BATCH = 100;

const steps = envInteger('RAFT_SIM_STEPS') ?? STEPS_PER_SEED;
const replay = raftSimulationReplay(steps);
/** jest's 60 s default fits 100 seeds of 500 steps many times over; longer seeds get a generous 1 ms per step. */
const batchTimeoutMs = Math.max(60_000, BATCH * steps);

interface Totals {
  seeds: number;
  committed: number;
  leadersElected: number;
  crashes: number;
  savesLost: number;
  messagesDropped: number;
  messagesDuplicated: number;
}

async function runSeeds(seeds: readonly number[]): Promise<Totals> {
  const totals: Totals = { seeds: 0, committed: 0, leadersElected: 0, crashes: 0, savesLost: 0, messagesDropped: 0, messagesDuplicated: 0 };
  // A failure throws an Error naming the seed, the step, the replay command and the recent events.
  for (const summary of await forEachSeed(seeds, replay, (seed) => simulateSeed(seed, steps))) {
    totals.seeds++;
    totals.committed += summary.committed;
    totals.leadersElected += summary.leadersElected;
    totals.crashes += summary.crashes;
    totals.savesLost += summary.savesLost;
    totals.messagesDropped += summary.messagesDropped;
    totals.messagesDuplicated += summary.messagesDuplicated;
  }
  return totals;
}

/** A batch that exercised nothing would pass vacuously: require every kind of fault and progress. */
function expectExercised(totals: Totals): void {
  expect(totals.committed).toBeGreaterThan(5 * totals.seeds);
  expect(totals.leadersElected).toBeGreaterThan(totals.seeds);
  expect(totals.crashes).toBeGreaterThan(totals.seeds);
  expect(totals.savesLost).toBeGreaterThan(0);
  expect(totals.messagesDropped).toBeGreaterThan(0);
  expect(totals.messagesDuplicated).toBeGreaterThan(0);
}

describe('raft cluster simulation (driver + adapters, virtual clock, faults)', () => {
  const replayed = itReplaysSeed(replay, async (seed) => {
    const summary = await simulateSeed(seed, steps);
    console.log(`seed ${seed} (${steps} steps) passed: ${JSON.stringify(summary)}`);
  }, batchTimeoutMs);
  if (replayed) return;

  it('is deterministic: the same seed runs the same way twice', async () => {
    const first = await simulateSeed(42, steps);
    expect(await simulateSeed(42, steps)).toEqual(first);
  });

  const runBatch = async (seeds: readonly number[]): Promise<void> => {
    const totals = await runSeeds(seeds);
    if (seeds.length >= BATCH) expectExercised(totals);
  };
  itForSeedBatches('fixed seeds', seedBatches(0, FIXED_SEEDS, BATCH), runBatch, batchTimeoutMs);
  const runs = envInteger('RAFT_SIM_RUNS') ?? RANDOM_SEEDS_DEFAULT;
  const base = randomSeedBase('RAFT_SIM_BASE', FIXED_SEEDS, 'raft simulation', runs);
  itForSeedBatches('random seeds', seedBatches(base, runs, BATCH), runBatch, batchTimeoutMs);
});
