/**
 * Power loss under `FilesystemRaftStorage` (docs/testing.md "Power loss"): seeded runs on the
 * simulated disk of test/support/power-loss, each cutting the power at a random disk operation
 * during a sequence of saves; no resolved save may be lost (raft-storage-crash-run.ts).
 *
 * Replay one seed: RAFT_POWER_LOSS_SEED=<seed> npx jest test/unit/adapters/filesystem/raft-storage-power-loss
 * Other seed counts: RAFT_POWER_LOSS_SEEDS=<n> (the default below takes about 17 s on CI's 2 cores).
 */
import { RaftCrashRunResult, runRaftStorageCrash } from '../../../support/power-loss/raft-storage-crash-run';

const SEEDS = 12000;
/** Seeds per test, well inside jest's timeout on a loaded machine. */
const SEEDS_PER_TEST = 2000;

async function runOrExplain(seed: number): Promise<RaftCrashRunResult> {
  try {
    return await runRaftStorageCrash(seed);
  } catch (error) {
    throw new Error(`raft power-loss run failed for seed ${seed} (replay: RAFT_POWER_LOSS_SEED=${seed} npx jest test/unit/adapters/filesystem/raft-storage-power-loss): ${String(error)}`);
  }
}

describe('FilesystemRaftStorage power loss (seeded)', () => {
  const replay = process.env['RAFT_POWER_LOSS_SEED'];
  if (replay !== undefined) {
    it(`replays seed ${replay}`, async () => {
      await runOrExplain(Number(replay));
    });
    return;
  }

  const seeds = Number(process.env['RAFT_POWER_LOSS_SEEDS'] ?? SEEDS);
  const ranges: [number, number][] = [];
  for (let first = 1; first <= seeds; first += SEEDS_PER_TEST) ranges.push([first, Math.min(seeds, first + SEEDS_PER_TEST - 1)]);

  it.each(ranges)('loses no resolved save and loads no entry that was never saved: seeds %i-%i', async (first, last) => {
    let saves = 0;
    for (let seed = first; seed <= last; seed++) saves += (await runOrExplain(seed)).savesResolved;
    expect(saves).toBeGreaterThan((last - first + 1) * 3); // the runs saved enough to mean something
  });
});
