import { Observable, Subject } from 'rxjs';
import type { RaftTransport } from '../../../application/ports/raft-transport.port';
import type { RaftMessage } from '../../../domain/consensus/raft';

/**
 * A shared in-memory network for `InMemoryRaftTransport`s: routes each message to the transport
 * registered under its `to`. A message to an unknown or closed server is lost (and counted), as on
 * NATS. Delivery is synchronous, in send order; `deliverTo` can be turned off per server to model
 * a partition.
 */
export class InMemoryRaftHub {
  private readonly nodes = new Map<string, Subject<RaftMessage>>();
  private readonly cut = new Set<string>();
  lost = 0;

  /** A transport for `serverId`; throws if one is already open under that id. */
  connect(serverId: string): InMemoryRaftTransport {
    if (this.nodes.has(serverId)) throw new Error(`raft server ${serverId} is already connected to the hub`);
    const inbound = new Subject<RaftMessage>();
    this.nodes.set(serverId, inbound);
    return new InMemoryRaftTransport(this, serverId, inbound);
  }

  /** Drops every message addressed to `serverId` while `reachable` is false. */
  setReachable(serverId: string, reachable: boolean): void {
    if (reachable) this.cut.delete(serverId);
    else this.cut.add(serverId);
  }

  /** @internal */
  route(message: RaftMessage): void {
    const target = this.nodes.get(message.to);
    if (!target || this.cut.has(message.to)) {
      this.lost++;
      return;
    }
    target.next(message);
  }

  /** @internal */
  disconnect(serverId: string, inbound: Subject<RaftMessage>): void {
    if (this.nodes.get(serverId) === inbound) this.nodes.delete(serverId);
    inbound.complete();
  }
}

/** The in-memory twin of `NatsRaftTransport`; create it with `InMemoryRaftHub.connect`. */
export class InMemoryRaftTransport implements RaftTransport {
  readonly inbound$: Observable<RaftMessage>;
  private closed = false;

  constructor(
    private readonly hub: InMemoryRaftHub,
    readonly serverId: string,
    private readonly inbound: Subject<RaftMessage>,
  ) {
    this.inbound$ = inbound.asObservable();
  }

  send(messages: readonly RaftMessage[]): void {
    if (this.closed) return;
    for (const message of messages) this.hub.route(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.disconnect(this.serverId, this.inbound);
  }
}
