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
import { CrashRunResult, runPartitionLogCrash } from '../../../support/power-loss/partition-log-crash-run';

const SEEDS: Record<SyncPolicy, number> = { always: 10000, interval: 3000, never: 3000 };
/** Seeds per test, well inside jest's timeout on a loaded machine. */
const SEEDS_PER_TEST = 1000;

/**
 * Runs with a descriptor budget of one (docs/storage.md "Open files"): every operation opens the
 * file it needs and the one before closes, so a sync goes through another descriptor than the write.
 */
const TINY_BUDGET_SEEDS = 2000;

async function runOrExplain(seed: number, policy: SyncPolicy, openFilesMax?: number): Promise<CrashRunResult> {
  try {
    return await runPartitionLogCrash(seed, policy, openFilesMax);
  } catch (error) {
    const budget = openFilesMax === undefined ? '' : ` POWER_LOSS_OPEN_FILES_MAX=${openFilesMax}`;
    throw new Error(
      `power-loss run failed for seed ${seed}, policy ${policy}${budget} (replay: POWER_LOSS_SEED=${seed} POWER_LOSS_POLICY=${policy}${budget} npx jest test/unit/adapters/filesystem/commit-log-power-loss): ${String(error)}`,
    );
  }
}

/** [first, last] seed ranges of at most SEEDS_PER_TEST. */
function chunks(seeds: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let first = 1; first <= seeds; first += SEEDS_PER_TEST) ranges.push([first, Math.min(seeds, first + SEEDS_PER_TEST - 1)]);
  return ranges;
}

describe('commit log power loss (seeded)', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const replay = process.env['POWER_LOSS_SEED'];
  if (replay !== undefined) {
    const policy = (process.env['POWER_LOSS_POLICY'] ?? 'always') as SyncPolicy;
    const budget = process.env['POWER_LOSS_OPEN_FILES_MAX'];
    it(`replays seed ${replay} (${policy})`, async () => {
      await runOrExplain(Number(replay), policy, budget === undefined ? undefined : Number(budget));
    });
    return;
  }

  const seeds = (policy: SyncPolicy) => Number(process.env['POWER_LOSS_SEEDS'] ?? SEEDS[policy]);

  describe('"always": no acknowledged record lost, no garbage served, the log continues after the recovered end', () => {
    it.each(chunks(seeds('always')))('seeds %i-%i', async (first, last) => {
      let acked = 0;
      for (let seed = first; seed <= last; seed++) acked += (await runOrExplain(seed, 'always')).acked;
      expect(acked).toBeGreaterThan((last - first + 1) * 5); // the runs acknowledged enough to mean something
    });
  });

  describe.each(['always', 'never'] as const)('"%s" with a budget of one open file: the same checks while every operation reopens its files', (policy) => {
    it.each(chunks(Math.min(seeds(policy), TINY_BUDGET_SEEDS)))('seeds %i-%i', async (first, last) => {
      let acked = 0;
      for (let seed = first; seed <= last; seed++) acked += (await runOrExplain(seed, policy, 1)).acked;
      expect(acked).toBeGreaterThan((last - first + 1) * 5);
    });
  });

  describe.each(['interval', 'never'] as const)('"%s": the log stays consistent; acknowledged records lost are counted', (policy) => {
    const totals = { acked: 0, lost: 0, runsWithLoss: 0, runs: 0 };
    afterAll(() => {
      // Figures for docs/storage.md; the consistency checks are inside each run.
      process.stdout.write(`power loss under "${policy}": ${totals.lost} of ${totals.acked} acknowledged records lost, in ${totals.runsWithLoss} of ${totals.runs} runs\n`);
    });
    it.each(chunks(seeds(policy)))('seeds %i-%i', async (first, last) => {
      for (let seed = first; seed <= last; seed++) {
        const result = await runOrExplain(seed, policy);
        totals.acked += result.acked;
        totals.lost += result.lost;
        totals.runs++;
        if (result.lost > 0) totals.runsWithLoss++;
      }
      expect(totals.acked).toBeGreaterThan(0);
    });
  });
});
