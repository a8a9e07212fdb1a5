import type { Observable } from 'rxjs';
import type { RaftMessage } from '../../domain/consensus/raft';

/**
 * Carries Raft messages between servers (docs/style.md "Transport", docs/raft.md "Transport"). Message-oriented and fire-and-forget: Raft
 * tolerates loss, reordering and duplication, so `send` never blocks, never throws for a lost or
 * undeliverable message, and adapters drop (and count) what they cannot deliver.
 */
export interface RaftTransport {
  /** Sends each message to the server named by its `to`; returns at once, delivery is not promised. */
  send(messages: readonly RaftMessage[]): void;
  /** Messages addressed to this server, in arrival order. Completes on `close`. */
  readonly inbound$: Observable<RaftMessage>;
  /** Stops receiving and sending; `inbound$` completes. Idempotent. */
  close(): Promise<void>;
}
