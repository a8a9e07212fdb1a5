import { Observable, Subject } from 'rxjs';
import type { Cancellable, Scheduler } from '../../../application/ports/clock.port';
import type { RecordBatch } from '../../../application/ports/partition-log.port';
import {
  EpochEnd,
  EpochEndRequest,
  ReplicationFetch,
  ReplicationReply,
  ReplicationTransport,
  ReplicationUnavailableError,
  REPLICATION_REPLY_HEADER_BYTES,
} from '../../../application/ports/replication-transport.port';
import { partitionKey, type PartitionRef } from '../../../domain/shared/ids';

type FetchHandler = (request: ReplicationFetch) => Promise<ReplicationReply | null>;
type EndOffsetHandler = (request: EpochEndRequest) => EpochEnd | null;

interface Server<H> {
  readonly serverId: string;
  readonly handler: H;
}

export interface InMemoryReplicationHubOptions {
  /**
   * When given, a request that goes unanswered (handler returned null or failed, or either side
   * unreachable) rejects after its `timeoutMs` on this scheduler, as a NATS request times out;
   * the simulator passes its simulated scheduler. Without it such requests reject at once.
   * A request nobody serves always rejects at once (NATS "no responders").
   */
  readonly scheduler?: Scheduler;
  /**
   * The largest reply (header included) the hub delivers, as NATS `max_payload` limits a message:
   * a larger reply is lost like a publish the NATS client refuses (counted in `oversizedReplies`).
   * Unlimited by default.
   */
  readonly payloadBytesMax?: number;
}

/**
 * The replication data plane of several in-memory servers (the twin of `NatsReplicationTransport`).
 * A fetch or end-offset request goes to the most recent reachable server serving that partition,
 * like a NATS request answered by its subscriber; notifications go to the named server. Byte
 * buffers are copied on the way, so neither side can mutate the other's data.
 * `setReachable(id, false)` cuts a server off: its requests and requests to it are unanswered,
 * notifications to or from it are lost (and counted in `lostNotifications`).
 */
export class InMemoryReplicationHub {
  private readonly transports = new Map<string, InMemoryReplicationTransport>();
  private readonly fetchServers = new Map<string, Server<FetchHandler>[]>();
  private readonly endOffsetServers = new Map<string, Server<EndOffsetHandler>[]>();
  private readonly cut = new Set<string>();
  private readonly scheduler: Scheduler | undefined;
  /** See the option; a test may change it, as a reconnect to a server with another `max_payload` does. */
  payloadBytesMax: number;
  lostNotifications = 0;
  oversizedReplies = 0;

  constructor(options: InMemoryReplicationHubOptions = {}) {
    this.scheduler = options.scheduler;
    this.payloadBytesMax = options.payloadBytesMax ?? Number.MAX_SAFE_INTEGER;
  }

  /** A transport for `serverId`; throws if one is already open under that id. */
  connect(serverId: string): ReplicationTransport {
    if (this.transports.has(serverId)) throw new Error(`replication server ${serverId} is already connected to the hub`);
    const transport = new InMemoryReplicationTransport(this, serverId);
    this.transports.set(serverId, transport);
    return transport;
  }

  setReachable(serverId: string, reachable: boolean): void {
    if (reachable) this.cut.delete(serverId);
    else this.cut.add(serverId);
  }

  /** @internal */
  async fetch(from: string, ref: PartitionRef, request: ReplicationFetch, timeoutMs: number): Promise<ReplicationReply> {
    const server = this.pick(this.fetchServers, ref);
    if (server === undefined) throw new ReplicationUnavailableError('no responders');
    if (!this.reachable(from, server.serverId)) return this.unanswered(timeoutMs, 'server unreachable');
    let reply: ReplicationReply | null;
    try {
      reply = await server.handler({ ...request });
    } catch {
      return this.unanswered(timeoutMs, 'handler failed');
    }
    if (reply === null) return this.unanswered(timeoutMs, 'no answer');
    if (REPLICATION_REPLY_HEADER_BYTES + (reply.records?.bytes.length ?? 0) > this.payloadBytesMax) {
      this.oversizedReplies++;
      return this.unanswered(timeoutMs, 'reply larger than the payload limit');
    }
    // The reply may have been computed while the link went down: then it is lost in transit.
    if (!this.reachable(from, server.serverId)) return this.unanswered(timeoutMs, 'server unreachable');
    return { leaderEpoch: reply.leaderEpoch, highWatermark: reply.highWatermark, records: copyBatch(reply.records) };
  }

  /** @internal */
  async leaderEpochEndOffset(from: string, ref: PartitionRef, request: EpochEndRequest, timeoutMs: number): Promise<EpochEnd> {
    const server = this.pick(this.endOffsetServers, ref);
    if (server === undefined) throw new ReplicationUnavailableError('no responders');
    if (!this.reachable(from, server.serverId)) return this.unanswered(timeoutMs, 'server unreachable');
    let answer: EpochEnd | null;
    try {
      answer = server.handler({ ...request });
    } catch {
      return this.unanswered(timeoutMs, 'handler failed');
    }
    return answer === null ? this.unanswered(timeoutMs, 'no answer') : answer;
  }

  /** @internal */
  serveFetches(serverId: string, ref: PartitionRef, handler: FetchHandler): Cancellable {
    return register(this.fetchServers, ref, { serverId, handler });
  }

  /** @internal */
  serveEndOffsets(serverId: string, ref: PartitionRef, handler: EndOffsetHandler): Cancellable {
    return register(this.endOffsetServers, ref, { serverId, handler });
  }

  /** @internal Synchronous delivery, in send order. */
  notify(from: string, to: string, ref: PartitionRef): void {
    const target = this.transports.get(to);
    if (target === undefined || !this.reachable(from, to)) {
      this.lostNotifications++;
      return;
    }
    target.deliver({ stream: ref.stream, partition: ref.partition });
  }

  /** @internal */
  disconnect(serverId: string, transport: InMemoryReplicationTransport): void {
    if (this.transports.get(serverId) === transport) this.transports.delete(serverId);
    for (const servers of [...this.fetchServers.values(), ...this.endOffsetServers.values()]) {
      for (let i = servers.length - 1; i >= 0; i--) if (servers[i]!.serverId === serverId) servers.splice(i, 1);
    }
  }

  private reachable(from: string, to: string): boolean {
    return !this.cut.has(from) && !this.cut.has(to);
  }

  private pick<H>(table: Map<string, Server<H>[]>, ref: PartitionRef): Server<H> | undefined {
    return table.get(partitionKey(ref))?.at(-1);
  }

  private unanswered(timeoutMs: number, reason: string): Promise<never> {
    const scheduler = this.scheduler;
    if (scheduler === undefined) return Promise.reject(new ReplicationUnavailableError(reason));
    return new Promise((_, reject) => {
      scheduler.setTimeout(() => reject(new ReplicationUnavailableError(`timeout after ${timeoutMs} ms (${reason})`)), timeoutMs);
    });
  }
}

function register<H>(table: Map<string, Server<H>[]>, ref: PartitionRef, server: Server<H>): Cancellable {
  const key = partitionKey(ref);
  let servers = table.get(key);
  if (servers === undefined) table.set(key, (servers = []));
  servers.push(server);
  return {
    cancel: () => {
      const list = table.get(key);
      const i = list?.indexOf(server) ?? -1;
      if (list === undefined || i < 0) return;
      list.splice(i, 1);
      if (list.length === 0) table.delete(key);
    },
  };
}

const copyBatch = (batch: RecordBatch | null): RecordBatch | null =>
  batch === null ? null : { bytes: Buffer.from(batch.bytes), firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, count: batch.count };

/** One server's view of an `InMemoryReplicationHub`; create it with `InMemoryReplicationHub.connect`. */
class InMemoryReplicationTransport implements ReplicationTransport {
  private readonly notifications = new Subject<PartitionRef>();
  private readonly served = new Set<Cancellable>();
  private closed = false;
  readonly notifications$: Observable<PartitionRef> = this.notifications.asObservable();

  constructor(
    private readonly hub: InMemoryReplicationHub,
    private readonly serverId: string,
  ) {}

  get payloadBytesMax(): number {
    return this.hub.payloadBytesMax;
  }

  async fetch(ref: PartitionRef, request: ReplicationFetch, timeoutMs: number): Promise<ReplicationReply> {
    if (this.closed) throw new ReplicationUnavailableError('replication transport is closed');
    return this.hub.fetch(this.serverId, ref, request, timeoutMs);
  }

  async serveFetches(ref: PartitionRef, handler: FetchHandler): Promise<Cancellable> {
    return this.track(this.hub.serveFetches(this.serverId, { ...ref }, handler));
  }

  async leaderEpochEndOffset(ref: PartitionRef, request: EpochEndRequest, timeoutMs: number): Promise<EpochEnd> {
    if (this.closed) throw new ReplicationUnavailableError('replication transport is closed');
    return this.hub.leaderEpochEndOffset(this.serverId, ref, request, timeoutMs);
  }

  async serveLeaderEpochEndOffsets(ref: PartitionRef, handler: EndOffsetHandler): Promise<Cancellable> {
    return this.track(this.hub.serveEndOffsets(this.serverId, { ...ref }, handler));
  }

  notify(followerId: string, ref: PartitionRef): void {
    if (this.closed) return;
    this.hub.notify(this.serverId, followerId, ref);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.served) s.cancel();
    this.served.clear();
    this.hub.disconnect(this.serverId, this);
    this.notifications.complete();
  }

  /** @internal */
  deliver(ref: PartitionRef): void {
    if (!this.closed) this.notifications.next(ref);
  }

  private track(registration: Cancellable): Cancellable {
    if (this.closed) {
      registration.cancel();
      throw new Error('replication transport is closed');
    }
    this.served.add(registration);
    return {
      cancel: () => {
        this.served.delete(registration);
        registration.cancel();
      },
    };
  }
}
