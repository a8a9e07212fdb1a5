import { envInteger, forEachSeed, itForSeedBatches, itReplaysSeed, seedBatches, SeedReplay } from '../../support/seeds';
import { simulateSeed, SimulationSummary, STEPS_PER_SEED } from './group-simulation';

/**
 * Seeded simulation of consumer groups in the metadata (docs/simulation.md "Consumer groups"):
 * joins, leaves, expiries, stream deletions and coordinator failovers decided and applied through
 * the domain in random interleavings, stale decisions included, with the invariants checked after
 * every step. Replay one seed: GROUP_SIM_SEED=<seed> npx jest test/simulation/groups
 */
const SEEDS = envInteger('GROUP_SIM_SEEDS') ?? 400;
const BATCH = 100;
const replay: SeedReplay = { seedEnv: 'GROUP_SIM_SEED', spec: 'test/simulation/groups' };

describe('consumer groups simulation (decide/applyProposal, virtual clock)', () => {
  if (itReplaysSeed(replay, (seed) => console.log(`seed ${seed} passed: ${JSON.stringify(simulateSeed(seed))}`))) return;

  it('is deterministic: the same seed runs the same way twice', () => {
    expect(simulateSeed(7)).toEqual(simulateSeed(7));
  });

  itForSeedBatches('seeds', seedBatches(0, SEEDS, BATCH), async (seeds) => {
    const totals = (await forEachSeed(seeds, replay, (seed) => simulateSeed(seed, STEPS_PER_SEED))).reduce(
      (sum: SimulationSummary, s) => {
        for (const key of Object.keys(sum) as (keyof SimulationSummary)[]) sum[key] += s[key];
        return sum;
      },
      { applied: 0, rejected: 0, refused: 0, joins: 0, leaves: 0, expired: 0, coordinatorChanges: 0, streamsDeleted: 0 },
    );
    // A batch that exercised nothing would pass vacuously.
    expect(totals.rejected).toBeGreaterThan(seeds.length);
    expect(totals.joins).toBeGreaterThan(seeds.length);
    expect(totals.leaves).toBeGreaterThan(seeds.length);
    expect(totals.expired).toBeGreaterThan(0);
    expect(totals.coordinatorChanges).toBeGreaterThan(0);
    expect(totals.streamsDeleted).toBeGreaterThan(seeds.length);
  });
});
