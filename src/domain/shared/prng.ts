import { assert } from './assert';

/**
 * A seeded source of pseudo-random numbers (docs/style.md "Layout"): the only randomness the domain may use.
 * The same seed always yields the same sequence, so a simulation or a test replays exactly.
 */
export interface Prng {
  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniformly distributed integer in [0, boundExclusive); `boundExclusive` is a positive safe integer ≤ 2^32. */
  nextInt(boundExclusive: number): number;
}

/** Mulberry32: 32 bits of state, fast, statistically adequate for timeouts and simulations (not for cryptography). */
export class Mulberry32Prng implements Prng {
  private state: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `PRNG seed must be a safe integer: ${seed}`);
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  nextInt(boundExclusive: number): number {
    assert(Number.isSafeInteger(boundExclusive) && boundExclusive > 0 && boundExclusive <= 2 ** 32, `bad PRNG bound: ${boundExclusive}`);
    // Rejection sampling removes the modulo bias.
    const limit = 2 ** 32 - (2 ** 32 % boundExclusive);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % boundExclusive;
    }
  }
}

export const seededPrng = (seed: number): Prng => new Mulberry32Prng(seed);
