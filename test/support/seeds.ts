import { randomInt } from 'node:crypto';

/**
 * The one seed runner of the seeded tests (the simulations, the randomized Raft core, the power-loss
 * runs): seeds in batches of one jest test each, a failure that names its seed and the command that
 * replays it, and an environment variable that replays one seed alone (docs/testing.md).
 */

/** A non-negative integer from the environment (a seed, a count, a base), or undefined when unset. */
export function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
}

/** How one seed of a suite is replayed: `<seedEnv>=<seed> [settings] npx jest <spec>`. */
export interface SeedReplay {
  /** The environment variable that selects the one seed to run. */
  readonly seedEnv: string;
  /** The spec file, as given to jest. */
  readonly spec: string;
  /** Other settings the run needs to be the same, as `NAME=value`. */
  readonly settings?: readonly string[];
}

export const replayCommand = (replay: SeedReplay, seed: number): string =>
  [`${replay.seedEnv}=${seed}`, ...(replay.settings ?? []), `npx jest ${replay.spec}`].join(' ');

/** The error of a failed seed, naming the seed and the replay command unless its message already does. */
function seedFailure(replay: SeedReplay, seed: number, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes(`${replay.seedEnv}=${seed} `)) return error instanceof Error ? error : new Error(message);
  return new Error(`seed ${seed} failed (replay: ${replayCommand(replay, seed)}): ${message}`, { cause: error });
}

/** Runs one seed synchronously (a fast-check property, say); a failure names the seed and its replay. */
export function runSeed<T>(replay: SeedReplay, seed: number, run: (seed: number) => T): T {
  try {
    return run(seed);
  } catch (error) {
    throw seedFailure(replay, seed, error);
  }
}

/**
 * Runs `run` for every seed, in order, and returns the results. A failed seed does not stop the
 * others: at the end the first failure is thrown in full and the others are listed by their first line.
 */
export async function forEachSeed<T>(seeds: Iterable<number>, replay: SeedReplay, run: (seed: number) => T | Promise<T>): Promise<T[]> {
  const results: T[] = [];
  const failures: Error[] = [];
  for (const seed of seeds) {
    try {
      results.push(await run(seed));
    } catch (error) {
      failures.push(seedFailure(replay, seed, error));
    }
  }
  const [first, ...others] = failures;
  if (first === undefined) return results;
  if (others.length === 0) throw first;
  throw new Error([first.message, ...others.map((f) => `also: ${f.message.split('\n')[0]}`)].join('\n'), { cause: first });
}

/**
 * With the replay variable set, registers one test that runs that seed and returns true: the
 * caller then registers nothing else.
 */
export function itReplaysSeed(replay: SeedReplay, run: (seed: number) => unknown, timeoutMs?: number): boolean {
  const seed = envInteger(replay.seedEnv);
  if (seed === undefined) return false;
  it(`replays seed ${seed}`, async () => void (await forEachSeed([seed], replay, run)), timeoutMs);
  return true;
}

/** `count` consecutive seeds from `first`. */
export const seedRange = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

/** `count` consecutive seeds from `first`, cut into batches of at most `batchSize`. */
export function seedBatches(first: number, count: number, batchSize: number): number[][] {
  const batches: number[][] = [];
  for (let from = 0; from < count; from += batchSize) batches.push(seedRange(first + from, Math.min(batchSize, count - from)));
  return batches;
}

/** One test per batch, named by its seeds (`<label> <first>..<last>`). */
export function itForSeedBatches(label: string, batches: readonly (readonly number[])[], test: (seeds: readonly number[]) => Promise<void>, timeoutMs?: number): void {
  for (const seeds of batches) it(`${label} ${seeds[0]}..${seeds[seeds.length - 1]}`, () => test(seeds), timeoutMs);
}

/**
 * Where a batch of random seeds starts: `baseEnv` when set (to repeat a batch), else a random
 * number above the fixed seeds. Printed, and in the test names, so that a failed batch can be rerun.
 */
export function randomSeedBase(baseEnv: string, fixedSeeds: number, what: string, count: number): number {
  const base = envInteger(baseEnv) ?? fixedSeeds + randomInt(2 ** 40);
  console.log(`${what}: ${count} random seeds from ${baseEnv}=${base}`);
  return base;
}
