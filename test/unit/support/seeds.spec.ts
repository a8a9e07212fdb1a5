/** The tests' one seed runner (test/support/seeds.ts). */
import { envInteger, forEachSeed, replayCommand, runSeed, seedBatches } from '../../support/seeds';
import type { SeedReplay } from '../../support/seeds';

const replay: SeedReplay = { seedEnv: 'SOME_SEED', spec: 'test/some', settings: ['SOME_STEPS=9'] };

describe('seed runner', () => {
  it('cuts seeds into batches without losing or repeating one', () => {
    expect(seedBatches(0, 250, 100)).toEqual([
      Array.from({ length: 100 }, (_, i) => i),
      Array.from({ length: 100 }, (_, i) => 100 + i),
      Array.from({ length: 50 }, (_, i) => 200 + i),
    ]);
    expect(seedBatches(1, 3, 2)).toEqual([[1, 2], [3]]);
    expect(seedBatches(5, 0, 2)).toEqual([]);
  });

  it('runs every seed and names the failed ones with the command that replays them', async () => {
    const ran: number[] = [];
    const failing = forEachSeed([1, 2, 3, 4], replay, (seed) => {
      ran.push(seed);
      if (seed % 2 === 0) throw new Error(`broke at step ${seed * 10}\ntrace`);
      return seed;
    });
    await expect(failing).rejects.toThrow(
      'seed 2 failed (replay: SOME_SEED=2 SOME_STEPS=9 npx jest test/some): broke at step 20\ntrace\nalso: seed 4 failed (replay: SOME_SEED=4 SOME_STEPS=9 npx jest test/some): broke at step 40',
    );
    expect(ran).toEqual([1, 2, 3, 4]);
    await expect(forEachSeed([7, 8], replay, async (seed) => seed * 2)).resolves.toEqual([14, 16]);
  });

  it('leaves a failure that already says how to replay it as it is', () => {
    const own = new Error(`liveness lost\nreplay: ${replayCommand(replay, 12)}`);
    expect(() =>
      runSeed(replay, 12, () => {
        throw own;
      }),
    ).toThrow(own);
  });

  it('reads counts and seeds from the environment, refusing anything but a non-negative integer', () => {
    process.env['SEEDS_SPEC_VALUE'] = '1234';
    expect(envInteger('SEEDS_SPEC_VALUE')).toBe(1234);
    process.env['SEEDS_SPEC_VALUE'] = '-1';
    expect(() => envInteger('SEEDS_SPEC_VALUE')).toThrow('SEEDS_SPEC_VALUE must be a non-negative integer, got -1');
    delete process.env['SEEDS_SPEC_VALUE'];
    expect(envInteger('SEEDS_SPEC_VALUE')).toBeUndefined();
  });
});
