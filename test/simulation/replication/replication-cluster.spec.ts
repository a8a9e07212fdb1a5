import { randomInt } from 'node:crypto';
import { STEPS_PER_SEED, simulateSeed } from './replication-simulation';
import type { SeedSummary } from './replication-simulation';

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

const envInt = (name: string): number | undefined => {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
};

const steps = envInt('REPL_SIM_STEPS') ?? STEPS_PER_SEED;
const onlySeed = envInt('REPL_SIM_SEED');
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
  const failures: string[] = [];
  for (const seed of seeds) {
    let summary: SeedSummary;
    try {
      summary = await simulateSeed(seed, steps);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      continue;
    }
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
  // The first failure in full (seed, replay command, trace); the others by their first line.
  if (failures.length > 0) throw new Error([failures[0], ...failures.slice(1).map((f) => `also: ${f.split('\n')[0]}`)].join('\n'));
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

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('partition replication simulation (leader + followers + controller, virtual clock, faults)', () => {
  if (onlySeed !== undefined) {
    it(`replays seed ${onlySeed}`, async () => {
      const summary = await simulateSeed(onlySeed, steps);
      console.log(`seed ${onlySeed} (${steps} steps) passed: ${JSON.stringify(summary)}`);
    }, batchTimeoutMs);
    return;
  }

  it('is deterministic: the same seed runs the same way twice', async () => {
    const first = await simulateSeed(42, steps);
    expect(await simulateSeed(42, steps)).toEqual(first);
  });

  for (let from = 0; from < FIXED_SEEDS; from += BATCH) {
    const seeds = range(from, Math.min(BATCH, FIXED_SEEDS - from));
    it(`fixed seeds ${from}..${from + seeds.length - 1}`, async () => {
      expectExercised(await runSeeds(seeds));
    }, batchTimeoutMs);
  }

  const runs = envInt('REPL_SIM_RUNS') ?? RANDOM_SEEDS_DEFAULT;
  const base = envInt('REPL_SIM_BASE') ?? FIXED_SEEDS + randomInt(2 ** 40);
  console.log(`replication simulation: ${runs} random seeds from REPL_SIM_BASE=${base}`);
  for (let from = 0; from < runs; from += BATCH) {
    const seeds = range(base + from, Math.min(BATCH, runs - from));
    it(`random seeds ${seeds[0]}..${seeds[seeds.length - 1]}`, async () => {
      const totals = await runSeeds(seeds);
      if (seeds.length >= BATCH) expectExercised(totals);
    }, batchTimeoutMs);
  }
});
