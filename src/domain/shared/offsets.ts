import { assert } from './assert';

/** Offsets are int64 on the wire; we keep them as safe-integer numbers and assert at every entry point. */
export const NO_OFFSET = -1;

export function assertOffset(value: number, what: string): number {
  assert(Number.isSafeInteger(value) && value >= -1, `${what} is not a valid offset: ${value}`);
  return value;
}
