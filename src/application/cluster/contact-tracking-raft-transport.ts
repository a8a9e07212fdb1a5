import { Observable, tap } from 'rxjs';
import type { RaftMessage } from '../../domain/consensus/raft';
import type { Clock } from '../ports/clock.port';
import type { RaftTransport } from '../ports/raft-transport.port';

/** A `RaftTransport` that remembers when each peer was last heard from (for `RaftAckLease`). */
export class ContactTrackingRaftTransport implements RaftTransport {
  private readonly lastHeardMs = new Map<string, number>();
  readonly inbound$: Observable<RaftMessage>;

  constructor(
    private readonly inner: RaftTransport,
    private readonly clock: Clock,
  ) {
    this.inbound$ = inner.inbound$.pipe(tap((message) => this.lastHeardMs.set(message.from, clock.nowMs())));
  }

  /** Wall-clock ms since `peer` was last heard from; Infinity when never. */
  silenceMs(peer: string): number {
    const at = this.lastHeardMs.get(peer);
    return at === undefined ? Number.POSITIVE_INFINITY : this.clock.nowMs() - at;
  }

  send(messages: readonly RaftMessage[]): void {
    this.inner.send(messages);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
