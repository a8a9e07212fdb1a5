import { randomInt } from 'node:crypto';
import { STEPS_PER_SEED, simulateSeed } from './raft-simulation';

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

const envInt = (name: string): number | undefined => {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
};

const steps = envInt('RAFT_SIM_STEPS') ?? STEPS_PER_SEED;
const onlySeed = envInt('RAFT_SIM_SEED');
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
  for (const seed of seeds) {
    // A failure throws an Error naming the seed, the step, the replay command and the recent events.
    const summary = await simulateSeed(seed, steps);
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

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('raft cluster simulation (driver + adapters, virtual clock, faults)', () => {
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

  const runs = envInt('RAFT_SIM_RUNS') ?? RANDOM_SEEDS_DEFAULT;
  const base = envInt('RAFT_SIM_BASE') ?? FIXED_SEEDS + randomInt(2 ** 40);
  console.log(`raft simulation: ${runs} random seeds from RAFT_SIM_BASE=${base}`);
  for (let from = 0; from < runs; from += BATCH) {
    const seeds = range(base + from, Math.min(BATCH, runs - from));
    it(`random seeds ${seeds[0]}..${seeds[seeds.length - 1]}`, async () => {
      const totals = await runSeeds(seeds);
      if (seeds.length >= BATCH) expectExercised(totals);
    }, batchTimeoutMs);
  }
});
