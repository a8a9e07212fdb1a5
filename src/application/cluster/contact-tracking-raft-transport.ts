import { Observable, tap } from 'rxjs';
import type { RaftMessage } from '../../domain/consensus/raft';
import type { Clock } from '../ports/clock.port';
import type { PeerContact } from '../ports/peer-contact.port';
import type { RaftTransport } from '../ports/raft-transport.port';

/** A `RaftTransport` that remembers when each peer was last heard from. */
export class ContactTrackingRaftTransport implements RaftTransport, PeerContact {
  private readonly lastHeardMs = new Map<string, number>();
  private readonly gapEndsMs = new Map<string, number>();
  readonly inbound$: Observable<RaftMessage>;

  constructor(
    private readonly inner: RaftTransport,
    private readonly clock: Clock,
    /** A silence longer than this counts as a gap (the ack lease). */
    private readonly gapMs: number,
  ) {
    this.inbound$ = inner.inbound$.pipe(tap((message) => this.heard(message.from)));
  }

  private heard(peer: string): void {
    const now = this.clock.nowMs();
    const previous = this.lastHeardMs.get(peer);
    // Our own pause shows the same way: the messages that queued up meanwhile arrive late.
    if (previous !== undefined && now - previous > this.gapMs) this.gapEndsMs.set(peer, now);
    this.lastHeardMs.set(peer, now);
  }

  gapEndMs(peer: string): number {
    return this.gapEndsMs.get(peer) ?? 0;
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
