import type { Observable } from 'rxjs';
import type { RaftTransport } from '../../src/application/ports/raft-transport.port';
import { InMemoryRaftHub } from '../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { InMemoryRaftTransport } from '../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { NodeId, RaftMessage } from '../../src/domain/consensus/raft';
import type { Prng } from '../../src/domain/shared/prng';
import type { VirtualClock } from '../support/virtual-clock';

/** How the network misbehaves; changed by the simulation as it runs. */
export interface NetworkFaults {
  /** Chance, in percent, that a message is lost. */
  readonly lossPercent: number;
  /** Chance, in percent, that a message is delivered twice (each copy with its own delay). */
  readonly duplicatePercent: number;
  /** Each delivery takes a delay drawn uniformly from [delayMinMs, delayMaxMs]; unequal delays reorder. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

export const HEALTHY_NETWORK: NetworkFaults = { lossPercent: 0, duplicatePercent: 0, delayMinMs: 1, delayMaxMs: 3 };

/** The hub id the network delivers from; never a server id. */
const WIRE_ID = '~wire';

/**
 * A faulty network between simulated servers, over the real `InMemoryRaftHub`: each server talks
 * through a `SimulatedRaftTransport` whose `send` hands messages to this network, which drops,
 * delays (on the virtual clock), duplicates and — through unequal delays — reorders them, and
 * honours partitions both when a message is sent and when it arrives. Surviving messages are routed
 * by the hub to whichever transport is connected under `to` at delivery time (none while the server
 * is down: lost and counted by the hub).
 */
export class SimulatedNetwork {
  private readonly hub = new InMemoryRaftHub();
  private readonly wire: InMemoryRaftTransport;
  /** Partition group per server; servers in different groups cannot talk. Empty: fully connected. */
  private readonly groupOf = new Map<NodeId, number>();
  faults: NetworkFaults = HEALTHY_NETWORK;
  readonly counts = { sent: 0, dropped: 0, duplicated: 0, delivered: 0 };

  constructor(
    private readonly clock: VirtualClock,
    private readonly prng: Prng,
    /** Sees every message as its sender hands it over (the invariant checker); may throw. */
    private readonly onSend: (message: RaftMessage) => void,
  ) {
    this.wire = this.hub.connect(WIRE_ID);
  }

  /** A transport for a (re)started server; the previous one under this id must be closed. */
  connect(id: NodeId): SimulatedRaftTransport {
    return new SimulatedRaftTransport(this, this.hub.connect(id));
  }

  /** Splits the servers into groups that cannot reach each other. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, g) => group.forEach((id) => this.groupOf.set(id, g)));
  }

  heal(): void {
    this.groupOf.clear();
  }

  get partitioned(): boolean {
    return this.groupOf.size > 0;
  }

  canReach(from: NodeId, to: NodeId): boolean {
    return (this.groupOf.get(from) ?? 0) === (this.groupOf.get(to) ?? 0);
  }

  /** Messages handed to servers that were down when they arrived. */
  get lostAtDelivery(): number {
    return this.hub.lost;
  }

  /** @internal called by `SimulatedRaftTransport.send`. */
  submit(message: RaftMessage): void {
    this.counts.sent++;
    this.onSend(message);
    const faults = this.faults;
    if (!this.canReach(message.from, message.to) || this.prng.nextInt(100) < faults.lossPercent) {
      this.counts.dropped++;
      return;
    }
    const copies = this.prng.nextInt(100) < faults.duplicatePercent ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delayMs = faults.delayMinMs + this.prng.nextInt(faults.delayMaxMs - faults.delayMinMs + 1);
      this.clock.schedule(() => this.deliver(message), delayMs, null);
    }
  }

  private deliver(message: RaftMessage): void {
    // A partition that started while the message was in flight cuts it too.
    if (!this.canReach(message.from, message.to)) {
      this.counts.dropped++;
      return;
    }
    this.counts.delivered++;
    this.wire.send([message]);
  }
}

/** The `RaftTransport` port for one incarnation of one server, sending through the faulty network. */
export class SimulatedRaftTransport implements RaftTransport {
  readonly inbound$: Observable<RaftMessage>;
  private closed = false;

  constructor(
    private readonly network: SimulatedNetwork,
    private readonly inner: InMemoryRaftTransport,
  ) {
    this.inbound$ = inner.inbound$;
  }

  send(messages: readonly RaftMessage[]): void {
    if (this.closed) return;
    for (const message of messages) this.network.submit(message);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }
}
