import { envInteger, forEachSeed, itForSeedBatches, itReplaysSeed, randomSeedBase, seedBatches } from '../../support/seeds';
import type { SeedReplay } from '../../support/seeds';
import { STEPS_PER_SEED, simulateSeed } from './replication-simulation';

/**
 * Seeded deterministic simulation of partition replication (docs/replication.md): the real PartitionLeader and
 * PartitionFollower over crashable in-memory logs, the in-memory replication hub with loss, delay
 * and partitions, a simulated controller, on a virtual clock; see docs/simulation.md.
 *
 * Default: seeds 0..299 in batches of 100, plus 50 seeds from a random base (in the test name).
 * Replay one seed:     REPL_SIM_SEED=<seed> npx jest test/simulation/replication
 * A longer run:        REPL_SIM_RUNS=5000 npx jest test/simulation/replication   (random seeds, batches of 100)
 * Fix the random base: REPL_SIM_BASE=<n>; longer seeds: REPL_SIM_STEPS=<steps> (default 300).
 */

const FIXED_SEEDS = 300;
const RANDOM_SEEDS_DEFAULT = 50;
const BATCH = 100;

const steps = envInteger('REPL_SIM_STEPS') ?? STEPS_PER_SEED;
const replay: SeedReplay = { seedEnv: 'REPL_SIM_SEED', spec: 'test/simulation/replication', settings: steps === STEPS_PER_SEED ? [] : [`REPL_SIM_STEPS=${steps}`] };
const batchTimeoutMs = Math.max(60_000, BATCH * steps);

interface Totals {
  seeds: number;
  acked: number;
  crashes: number;
  recordsLost: number;
  failovers: number;
  isrShrinks: number;
  isrExpands: number;
  truncations: number;
  requestsLost: number;
}

async function runSeeds(seeds: readonly number[]): Promise<Totals> {
  const totals: Totals = { seeds: 0, acked: 0, crashes: 0, recordsLost: 0, failovers: 0, isrShrinks: 0, isrExpands: 0, truncations: 0, requestsLost: 0 };
  // A failed seed does not stop the others; the first failure is thrown in full (seed, replay command, trace).
  for (const summary of await forEachSeed(seeds, replay, (seed) => simulateSeed(seed, steps))) {
    totals.seeds++;
    totals.acked += summary.acked;
    totals.crashes += summary.crashes;
    totals.recordsLost += summary.recordsLost;
    totals.failovers += summary.failovers;
    totals.isrShrinks += summary.isrShrinks;
    totals.isrExpands += summary.isrExpands;
    totals.truncations += summary.truncations;
    totals.requestsLost += summary.requestsLost;
  }
  return totals;
}

/** A batch that exercised nothing would pass vacuously: require every kind of fault and progress. */
function expectExercised(totals: Totals): void {
  expect(totals.seeds).toBeGreaterThan(BATCH / 2);
  expect(totals.acked).toBeGreaterThan(10 * totals.seeds);
  expect(totals.crashes).toBeGreaterThan(totals.seeds);
  expect(totals.recordsLost).toBeGreaterThan(0);
  expect(totals.failovers).toBeGreaterThan(totals.seeds);
  expect(totals.isrShrinks).toBeGreaterThan(0);
  expect(totals.isrExpands).toBeGreaterThan(0);
  expect(totals.truncations).toBeGreaterThan(0);
  expect(totals.requestsLost).toBeGreaterThan(0);
}

describe('partition replication simulation (leader + followers + controller, virtual clock, faults)', () => {
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
  const runs = envInteger('REPL_SIM_RUNS') ?? RANDOM_SEEDS_DEFAULT;
  const base = randomSeedBase('REPL_SIM_BASE', FIXED_SEEDS, 'replication simulation', runs);
  itForSeedBatches('random seeds', seedBatches(base, runs, BATCH), runBatch, batchTimeoutMs);
});
