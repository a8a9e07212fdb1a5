/**
 * Power loss under the real filesystem commit log (docs/testing.md "Power loss"): seeded runs on the
 * simulated disk of test/support/power-loss, each cutting the power at a random disk operation and
 * checking what the reopened log serves (partition-log-crash-run.ts). Under the default
 * `streams.sync.policy: always` no acknowledged record may be lost; `interval` and `never` lose
 * some by design, and the run reports how many (docs/storage.md).
 *
 * Replay one seed: POWER_LOSS_SEED=<seed> [POWER_LOSS_POLICY=always|interval|never] npx jest test/unit/adapters/filesystem/commit-log-power-loss
 * Other seed counts: POWER_LOSS_SEEDS=<n> per policy (the defaults below take about 35 s on CI's 2 cores).
 */
import { SyncPolicy } from '../../../../src/application/ports/partition-log.port';
import { runPartitionLogCrash } from '../../../support/power-loss/partition-log-crash-run';
import { envInteger, forEachSeed, itForSeedBatches, itReplaysSeed, seedBatches } from '../../../support/seeds';
import type { SeedReplay } from '../../../support/seeds';

const SEEDS: Record<SyncPolicy, number> = { always: 10000, interval: 3000, never: 3000 };
/** Seeds per test, well inside jest's timeout on a loaded machine. */
const SEEDS_PER_TEST = 1000;

/**
 * Runs with a descriptor budget of one (docs/storage.md "Open files"): every operation opens the
 * file it needs and the one before closes, so a sync goes through another descriptor than the write.
 */
const TINY_BUDGET_SEEDS = 2000;

/** The seeds replay under the same policy and descriptor budget. */
const replayOf = (policy: SyncPolicy, openFilesMax?: number): SeedReplay => ({
  seedEnv: 'POWER_LOSS_SEED',
  spec: 'test/unit/adapters/filesystem/commit-log-power-loss',
  settings: [`POWER_LOSS_POLICY=${policy}`, ...(openFilesMax === undefined ? [] : [`POWER_LOSS_OPEN_FILES_MAX=${openFilesMax}`])],
});

/** Seeds 1..count in batches of SEEDS_PER_TEST. */
const batchesOf = (count: number): number[][] => seedBatches(1, count, SEEDS_PER_TEST);

describe('commit log power loss (seeded)', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const replayPolicy = (process.env['POWER_LOSS_POLICY'] ?? 'always') as SyncPolicy;
  const replayBudget = envInteger('POWER_LOSS_OPEN_FILES_MAX');
  if (itReplaysSeed(replayOf(replayPolicy, replayBudget), (seed) => runPartitionLogCrash(seed, replayPolicy, replayBudget))) return;

  const seeds = (policy: SyncPolicy): number => envInteger('POWER_LOSS_SEEDS') ?? SEEDS[policy];

  describe('"always": no acknowledged record lost, no garbage served, the log continues after the recovered end', () => {
    itForSeedBatches('seeds', batchesOf(seeds('always')), async (batch) => {
      const runs = await forEachSeed(batch, replayOf('always'), (seed) => runPartitionLogCrash(seed, 'always'));
      expect(runs.reduce((acked, run) => acked + run.acked, 0)).toBeGreaterThan(batch.length * 5); // the runs acknowledged enough to mean something
    });
  });

  describe.each(['always', 'never'] as const)('"%s" with a budget of one open file: the same checks while every operation reopens its files', (policy) => {
    itForSeedBatches('seeds', batchesOf(Math.min(seeds(policy), TINY_BUDGET_SEEDS)), async (batch) => {
      const runs = await forEachSeed(batch, replayOf(policy, 1), (seed) => runPartitionLogCrash(seed, policy, 1));
      expect(runs.reduce((acked, run) => acked + run.acked, 0)).toBeGreaterThan(batch.length * 5);
    });
  });

  describe.each(['interval', 'never'] as const)('"%s": the log stays consistent; acknowledged records lost are counted', (policy) => {
    const totals = { acked: 0, lost: 0, runsWithLoss: 0, runs: 0 };
    afterAll(() => {
      // Figures for docs/storage.md; the consistency checks are inside each run.
      process.stdout.write(`power loss under "${policy}": ${totals.lost} of ${totals.acked} acknowledged records lost, in ${totals.runsWithLoss} of ${totals.runs} runs\n`);
    });
    itForSeedBatches('seeds', batchesOf(seeds(policy)), async (batch) => {
      for (const result of await forEachSeed(batch, replayOf(policy), (seed) => runPartitionLogCrash(seed, policy))) {
        totals.acked += result.acked;
        totals.lost += result.lost;
        totals.runs++;
        if (result.lost > 0) totals.runsWithLoss++;
      }
      expect(totals.acked).toBeGreaterThan(0);
    });
  });
});
