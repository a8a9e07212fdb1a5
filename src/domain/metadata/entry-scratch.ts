import { StreamState } from '../stream/stream-state';
import { MetadataState } from './metadata-state';

/**
 * The stream map one entry's events have copied so far. The states between two events of one entry
 * are seen by nobody, so the entry's later events change that copy in place instead of copying the
 * whole map again: a CreateStream of k partitions copied every stream k + 1 times, which made
 * replaying 2,500 such entries cost 0.9 s (docs/benchmarks.md "Partition scale").
 */
export class EntryScratch {
  streams: Map<string, StreamState> | null = null;
}

/** `state.streams`, writable: the entry's own copy when `scratch` holds it, else a fresh copy (kept in `scratch`). */
export function writableStreams(state: MetadataState, scratch: EntryScratch | undefined): Map<string, StreamState> {
  if (scratch?.streams != null && scratch.streams === state.streams) return scratch.streams;
  const copy = new Map(state.streams);
  if (scratch !== undefined) scratch.streams = copy;
  return copy;
}
