import type { Observable } from 'rxjs';
import type { Cancellable } from '../../../src/application/ports/clock.port';
import {
  type EpochEnd,
  type EpochEndRequest,
  ReplicationUnavailableError,
  type ReplicationFetch,
  type ReplicationReply,
  type ReplicationTransport,
} from '../../../src/application/ports/replication-transport.port';
import type { PartitionRef } from '../../../src/domain/shared/ids';
import type { Prng } from '../../../src/domain/shared/prng';
import type { SimulatedScheduler } from '../../support/virtual-clock';

/** How the replication network misbehaves; changed by the simulation as it runs. */
export interface ReplicationFaults {
  /** Chance, in percent, that a request or its reply is lost (the caller then times out). */
  readonly lossPercent: number;
  /** Each direction takes a delay drawn uniformly from [delayMinMs, delayMaxMs]; unequal delays reorder. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

export const HEALTHY_REPLICATION: ReplicationFaults = { lossPercent: 0, delayMinMs: 0, delayMaxMs: 2 };

/** The shared fault settings and counters of every replica's transport. */
export class ReplicationNetwork {
  faults: ReplicationFaults = HEALTHY_REPLICATION;
  readonly counts = { requests: 0, lost: 0 };

  constructor(private readonly prng: Prng) {}

  /** @internal */
  lose(): boolean {
    this.counts.requests++;
    const lost = this.prng.nextInt(100) < this.faults.lossPercent;
    if (lost) this.counts.lost++;
    return lost;
  }

  /** @internal */
  delayMs(): number {
    const { delayMinMs, delayMaxMs } = this.faults;
    return delayMinMs + this.prng.nextInt(delayMaxMs - delayMinMs + 1);
  }
}

/**
 * The `ReplicationTransport` port for one incarnation of one replica: the real in-memory hub's
 * transport (which routes to the current server of the partition and honours `setReachable`) with
 * loss and delay added on the requesting side, on the incarnation's virtual timers. A lost request
 * or reply rejects after the caller's timeout, as a NATS request does; a crash cancels the timers,
 * so the requests of a dead replica never settle.
 */
export class FaultyReplicationTransport implements ReplicationTransport {
  readonly notifications$: Observable<PartitionRef>;

  constructor(
    private readonly inner: ReplicationTransport,
    private readonly network: ReplicationNetwork,
    private readonly scheduler: SimulatedScheduler,
  ) {
    this.notifications$ = inner.notifications$;
  }

  get payloadBytesMax(): number {
    return this.inner.payloadBytesMax;
  }

  fetch(ref: PartitionRef, request: ReplicationFetch, timeoutMs: number): Promise<ReplicationReply> {
    return this.faulty(timeoutMs, () => this.inner.fetch(ref, request, timeoutMs));
  }

  serveFetches(ref: PartitionRef, handler: (request: ReplicationFetch) => Promise<ReplicationReply | null>): Promise<Cancellable> {
    return this.inner.serveFetches(ref, handler);
  }

  leaderEpochEndOffset(ref: PartitionRef, request: EpochEndRequest, timeoutMs: number): Promise<EpochEnd> {
    return this.faulty(timeoutMs, () => this.inner.leaderEpochEndOffset(ref, request, timeoutMs));
  }

  serveLeaderEpochEndOffsets(ref: PartitionRef, handler: (request: EpochEndRequest) => EpochEnd | null): Promise<Cancellable> {
    return this.inner.serveLeaderEpochEndOffsets(ref, handler);
  }

  notify(followerId: string, ref: PartitionRef): void {
    this.inner.notify(followerId, ref);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Delays the request, maybe loses it or its answer, delays the answer, and gives up after
   * `timeoutMs` as a NATS request does. The timeout also covers a leader that died holding the
   * request open (the in-memory hub awaits the handler, which a dead process never finishes).
   */
  private faulty<T>(timeoutMs: number, send: () => Promise<T>): Promise<T> {
    const timedOut = (): Promise<never> => Promise.reject(new ReplicationUnavailableError(`timeout after ${timeoutMs} ms`));
    const requestDelayMs = this.network.delayMs();
    if (this.network.lose()) return this.after(timeoutMs, timedOut);
    const replyDelayMs = this.network.delayMs();
    const replyLost = this.network.lose();
    const exchange = this.after(requestDelayMs, send).then(
      (value) => (replyLost ? new Promise<T>(() => undefined) : this.after(replyDelayMs, () => Promise.resolve(value))),
      (error: unknown) => this.after(replyDelayMs, () => Promise.reject(error)),
    );
    exchange.catch(() => undefined); // an answer after the timeout is dropped
    let timer: Cancellable | null = null;
    const timeout = new Promise<never>((_, reject) => (timer = this.scheduler.setTimeout(() => timedOut().catch(reject), timeoutMs)));
    return Promise.race([exchange, timeout]).finally(() => (timer as Cancellable | null)?.cancel());
  }

  private after<T>(ms: number, run: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => this.scheduler.setTimeout(() => run().then(resolve, reject), ms));
  }
}
