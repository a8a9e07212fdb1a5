import * as grpc from '@grpc/grpc-js';
import type * as api from '../protocol/api-types';
import { AckPolicy } from '../protocol/api-types';
import { CorrelationIds } from './correlation-id';
import { AckTimeoutError, ClientClosedError, InvalidArgumentError, mapAsyncError, mapServiceError } from './errors';
import { toPublishRequest } from './publish-request';
import { PublishStream } from './publish-stream';
import type { ClientRouter, PublishTarget } from './router';
import { Bytes, PublishOptions, toBuffer } from './types';

export interface AsyncPublisherOptions {
  /** Most messages awaiting an ack at once; `send` waits for room beyond it. Default 1024. */
  readonly maxInFlight?: number;
  /** Default ack timeout per message; default the client's `ackWaitTimeMs`. */
  readonly ackWaitTimeMs?: number;
}

/** A sent message: its correlation id and the promise of its ack (`undefined` for AckPolicy.NONE). */
export interface PublishTicket {
  readonly correlationId: string;
  readonly partition: number;
  readonly ack: Promise<api.Ack | undefined>;
}

interface Pending {
  readonly address: string;
  readonly ack: Promise<api.Ack | undefined>;
  readonly resolve: (ack: api.Ack | undefined) => void;
  readonly reject: (error: Error) => void;
  /** performance.now() (monotonic) after which the ack counts as lost. */
  readonly deadline: number;
  readonly timeoutMs: number;
}

const ignore = (): void => undefined;

/**
 * A pipelined publisher on PublishAsync (docs/protocol.md "PublishAsync"): one bidi stream per broker, at most
 * `maxInFlight` messages awaiting their ack, acks matched to messages by correlation id.
 *
 * `send()` resolves once the message is written (waiting for room in the window: backpressure)
 * and hands back a ticket whose `ack` settles later; `publish()` is `send()` then the ack.
 * Errors reported in `asyncError` reject that message's ack with a typed error; a broken stream
 * rejects every message in flight on it (retriable BrokerUnavailableError for UNAVAILABLE) and the
 * next message opens a new stream, routed by freshly fetched metadata: a broker that ends its
 * streams is shutting down or lost, and the partition has a new leader (sends wait for the
 * refresh, so none goes back to the old address). An ack timeout refreshes the metadata too.
 * Messages are not resent automatically (that could duplicate).
 *
 * The per-message path is kept lean, since a client sends thousands of messages a second through
 * it: with room in the window and the route known, `send` writes at once; ack timeouts share one
 * timer armed for the earliest deadline instead of a timer per message.
 */
export class AsyncPublisher {
  private readonly maxInFlight: number;
  private readonly ackWaitTimeMs: number;
  private readonly ids = new CorrelationIds();
  private readonly calls = new Map<string, PublishStream>();
  /** In send order, which is deadline order unless per-message timeouts differ. */
  private readonly pending = new Map<string, Pending>();
  private readonly slotWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private reserved = 0;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** When `sweepTimer` fires (Infinity: not armed). */
  private sweepAt = Infinity;
  /** A metadata refresh after a broken stream or lost acks; sends wait for it (see the class comment). */
  private rerouting: Promise<void> | null = null;

  constructor(
    private readonly router: ClientRouter,
    options: AsyncPublisherOptions = {},
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.maxInFlight = options.maxInFlight ?? 1024;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    this.ackWaitTimeMs = options.ackWaitTimeMs ?? router.ackWaitTimeMs;
  }

  /** Messages written and awaiting their ack. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Publishes and resolves to the ack (`undefined` with AckPolicy.NONE). */
  async publish(stream: string, value: Bytes, options: PublishOptions = {}): Promise<api.Ack | undefined> {
    const ticket = await this.send(stream, value, options);
    return ticket.ack;
  }

  /**
   * Writes a message, first waiting for room in the window. The returned ticket's `ack` settles
   * with the ack or a typed error (AckTimeoutError, NoSuchPartitionError, ReadonlyPartitionError,
   * IncorrectOffsetError, ...). Messages sent without awaiting go out in call order.
   */
  send(stream: string, value: Bytes, options: PublishOptions = {}): Promise<PublishTicket> {
    try {
      if (this.closed) throw new ClientClosedError('publisher closed', undefined);
      const key = toBuffer(options.key);
      const body = toBuffer(value);
      const correlationId = options.correlationId ?? this.ids.next();
      if (this.pending.has(correlationId)) throw new InvalidArgumentError(`correlation id ${correlationId} already in flight`, undefined);
      if (this.reserved < this.maxInFlight && this.slotWaiters.length === 0 && this.rerouting === null) {
        const target = this.router.tryPublishTarget(stream, key, body, options);
        if (target !== undefined) {
          this.reserved += 1;
          return Promise.resolve(this.write(stream, key, body, correlationId, options, target));
        }
      }
      return this.sendWhenReady(stream, key, body, correlationId, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** `send` when the window is full or the partition's leader is not known yet. */
  private async sendWhenReady(stream: string, key: Buffer, body: Buffer, correlationId: string, options: PublishOptions): Promise<PublishTicket> {
    // Reserve the slot first (synchronously when there is room) so concurrent sends keep their order.
    const slot = this.acquireSlot();
    if (slot) await slot;
    let target: PublishTarget;
    try {
      if (this.rerouting !== null) await this.rerouting;
      target = this.router.tryPublishTarget(stream, key, body, options) ?? (await this.router.publishTarget(stream, key, body, options));
      if (this.closed) throw new ClientClosedError('publisher closed', undefined);
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    return this.write(stream, key, body, correlationId, options, target);
  }

  /** Writes the request on the broker's stream; the caller holds a window slot for it. */
  private write(stream: string, key: Buffer, body: Buffer, correlationId: string, options: PublishOptions, target: PublishTarget): PublishTicket {
    let request: ReturnType<typeof toPublishRequest>;
    let call: PublishStream;
    try {
      request = toPublishRequest(stream, target.partition, key, body, correlationId, options);
      call = this.callFor(target.address);
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    if (request.ackPolicy === AckPolicy.NONE) {
      try {
        call.write(request);
      } finally {
        this.releaseSlot();
      }
      return { correlationId, partition: target.partition, ack: Promise.resolve(undefined) };
    }
    const timeoutMs = options.timeoutMs ?? this.ackWaitTimeMs;
    const deadline = performance.now() + timeoutMs;
    let resolve!: (ack: api.Ack | undefined) => void;
    let reject!: (error: Error) => void;
    const ack = new Promise<api.Ack | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    try {
      call.write(request);
    } catch (error) {
      this.releaseSlot(); // nothing was written (an encoding error): no ack to wait for
      throw error;
    }
    // Set after the write: its response cannot arrive before this synchronous run ends.
    this.pending.set(correlationId, { address: target.address, ack, resolve, reject, deadline, timeoutMs });
    if (deadline < this.sweepAt) this.armSweep(deadline);
    return { correlationId, partition: target.partition, ack };
  }

  /** Resolves when no message awaits its ack. */
  flush(): Promise<void> {
    if (this.pending.size === 0 && this.reserved === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops accepting messages, waits up to `timeoutMs` (default the ack wait time) for acks in
   * flight, then ends the streams; acks still missing reject with ClientClosedError.
   */
  async close(timeoutMs = this.ackWaitTimeMs): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.slotWaiters.splice(0)) waiter.reject(new ClientClosedError('publisher closed', undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, new ClientClosedError('publisher closed before the ack', undefined));
    for (const call of this.calls.values()) call.end();
    this.calls.clear();
    this.onClosed();
  }

  private acquireSlot(): Promise<void> | null {
    if (this.reserved < this.maxInFlight && this.slotWaiters.length === 0) {
      this.reserved += 1;
      return null;
    }
    return new Promise((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
  }

  /** Frees a slot, handing it straight to the oldest waiting sender if any. */
  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) {
      next.resolve();
      return;
    }
    this.reserved -= 1;
    if (this.reserved === 0 && this.pending.size === 0) for (const idle of this.idleWaiters.splice(0)) idle();
  }

  private settle(correlationId: string, ack: api.Ack | undefined, error: Error | null): void {
    const entry = this.pending.get(correlationId);
    if (!entry) return;
    this.pending.delete(correlationId);
    if (this.pending.size === 0) this.disarmSweep();
    if (error) {
      // The caller may only have awaited `send`: a handler here keeps the rejection from being unhandled.
      entry.ack.catch(ignore);
      entry.reject(error);
    } else {
      entry.resolve(ack);
    }
    this.releaseSlot();
  }

  /** Fails every ack whose deadline passed, then waits for the next deadline. */
  private sweep(): void {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    let timedOut = false;
    for (const [id, entry] of this.pending) {
      if (entry.deadline <= now) {
        timedOut = true;
        this.settle(id, undefined, new AckTimeoutError(`no ack for ${id} within ${entry.timeoutMs} ms`, undefined, true));
      } else if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Infinity) this.armSweep(next);
    if (timedOut) this.reroute(); // the partition may have moved
  }

  /** Refreshes the metadata once (concurrent calls share it); sends made meanwhile wait for it. */
  private reroute(): void {
    if (this.rerouting !== null || this.closed) return;
    const refresh: Promise<void> = this.router
      .refreshMetadata()
      .catch(() => undefined)
      .then(() => {
        if (this.rerouting === refresh) this.rerouting = null;
      });
    this.rerouting = refresh;
  }

  private armSweep(deadline: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, deadline - performance.now()));
    this.sweepTimer.unref();
  }

  private disarmSweep(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
  }

  private callFor(address: string): PublishStream {
    const existing = this.calls.get(address);
    if (existing) return existing;
    const call = this.router.connection(address).publishAsync();
    const stream = new PublishStream(call);
    this.calls.set(address, stream);
    call.on('data', (response: api.PublishResponse) => {
      stream.onResponse();
      const id = response.correlationId || response.ack?.correlationId || '';
      if (response.asyncError) this.settle(id, undefined, mapAsyncError(response.asyncError.code, response.asyncError.message));
      else this.settle(id, response.ack, null);
    });
    const broken = (error: Error): void => {
      if (this.calls.get(address) === stream) this.calls.delete(address);
      this.reroute();
      for (const [id, entry] of [...this.pending]) if (entry.address === address) this.settle(id, undefined, error);
    };
    call.on('error', (error: unknown) => broken(mapServiceError(error, 'publish')));
    call.on('end', () => broken(new ClientClosedError('PublishAsync stream ended', grpc.status.OK)));
    return stream;
  }
}
