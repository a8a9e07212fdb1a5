import * as fc from 'fast-check';
import { CodecError, ProtobufDecodeError } from '../../../../src/protocol/codec-errors';

/** Random bytes, or `valid` with a few bytes overwritten and possibly cut short (half whole, so edits alone are tried too). */
export function randomOrMutated(valid: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
    fc.tuple(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.oneof(fc.constant(valid.length), fc.nat(valid.length)),
    ).map(([edits, cut]) => {
      const b = Buffer.from(valid);
      for (const [at, byte] of edits) b[at] = byte;
      return b.subarray(0, cut);
    }),
  );
}

/** The decoded value, or 'rejected' for a CodecError; any other exception fails the test. */
export function decodeOrReject<T>(decode: (bytes: Buffer) => T, bytes: Buffer): T | 'rejected' {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof CodecError) return 'rejected';
    throw error;
  }
}

/**
 * Feeds random and mutated bytes to a hand-written decoder and to the reflection codec (the
 * oracle): ours only ever throws ProtobufDecodeError, and is at most as lenient as the oracle —
 * whatever ours accepts, the oracle accepts with the same meaning. Both outcomes must occur at
 * least `minEach` times, so that neither half of the property is vacuous.
 */
export function expectNoMoreLenientThanOracle<T>(
  decode: (bytes: Buffer) => T,
  oracleDecode: (bytes: Buffer) => T,
  valid: Buffer,
  run: { readonly seed: number; readonly numRuns: number; readonly minEach: number },
): void {
  let compared = 0;
  let rejected = 0;
  fc.assert(fc.property(randomOrMutated(valid), (bytes) => {
    const mine = decodeOrReject(decode, bytes);
    if (mine === 'rejected') {
      expect(() => decode(bytes)).toThrow(ProtobufDecodeError);
      rejected++;
      return;
    }
    expect(decodeOrReject(oracleDecode, bytes)).toEqual(mine);
    compared++;
  }), { seed: run.seed, numRuns: run.numRuns });
  expect(compared).toBeGreaterThan(run.minEach);
  expect(rejected).toBeGreaterThan(run.minEach);
}
