/**
 * Power loss under `FilesystemRaftStorage` (docs/testing.md "Power loss"): seeded runs on the
 * simulated disk of test/support/power-loss, each cutting the power at a random disk operation
 * during a sequence of saves; no resolved save may be lost (raft-storage-crash-run.ts).
 *
 * Replay one seed: RAFT_POWER_LOSS_SEED=<seed> npx jest test/unit/adapters/filesystem/raft-storage-power-loss
 * Other seed counts: RAFT_POWER_LOSS_SEEDS=<n> (the default below takes about 17 s on CI's 2 cores).
 */
import { runRaftStorageCrash } from '../../../support/power-loss/raft-storage-crash-run';
import { envInteger, forEachSeed, itForSeedBatches, itReplaysSeed, seedBatches } from '../../../support/seeds';
import type { SeedReplay } from '../../../support/seeds';

const SEEDS = 12000;
/** Seeds per test, well inside jest's timeout on a loaded machine. */
const SEEDS_PER_TEST = 2000;

const replay: SeedReplay = { seedEnv: 'RAFT_POWER_LOSS_SEED', spec: 'test/unit/adapters/filesystem/raft-storage-power-loss' };

describe('FilesystemRaftStorage power loss (seeded)', () => {
  if (itReplaysSeed(replay, runRaftStorageCrash)) return;

  const seeds = envInteger('RAFT_POWER_LOSS_SEEDS') ?? SEEDS;
  itForSeedBatches('loses no resolved save and loads no entry that was never saved: seeds', seedBatches(1, seeds, SEEDS_PER_TEST), async (batch) => {
    const runs = await forEachSeed(batch, replay, runRaftStorageCrash);
    const saves = runs.reduce((sum, run) => sum + run.savesResolved, 0);
    expect(saves).toBeGreaterThan(batch.length * 3); // the runs saved enough to mean something
  });
});
