import type { HardState, SoftState } from './hard-state';
import type { Entry, RaftMessage, Snapshot } from './raft-message';

/**
 * Work the driver must do, in this order (etcd README "Usage"), then acknowledge with `advance`:
 * 1. persist `snapshot` (if present: it replaces the whole stored log, and the state machine is
 *    restored from it), then `hardState` (if present) and `entries` — an entry whose index is
 *    already stored replaces it and every stored entry after it;
 * 2. send `messages` (only after step 1 is durable: votes and acknowledgements depend on it);
 * 3. apply `committedEntries` to the state machine, in order (skip `noop` entries);
 * 4. call `advance(ready)`.
 * `softState` is informational (leader changes). All arrays are fresh and owned by the caller,
 * who must not mutate them; entries and messages are immutable data.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly RaftMessage[];
}
