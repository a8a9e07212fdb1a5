import * as grpc from '@grpc/grpc-js';
import type * as api from '../adapters/codec/api-types';
import { AckPolicy } from '../adapters/codec/api-types';
import type { ProtoInit } from '../adapters/codec/proto-schema';
import { CorrelationIds } from './correlation-id';
import { AckTimeoutError, ClientClosedError, InvalidArgumentError, mapAsyncError, mapServiceError } from './errors';
import { toPublishRequest } from './publish-request';
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
  readonly resolve: (ack: api.Ack | undefined) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

type PublishCall = grpc.ClientDuplexStream<ProtoInit<api.PublishRequest>, api.PublishResponse>;

/**
 * A pipelined publisher on PublishAsync (spec §2.9): one bidi stream per broker, at most
 * `maxInFlight` messages awaiting their ack, acks matched to messages by correlation id.
 *
 * `send()` resolves once the message is written (waiting for room in the window: backpressure)
 * and hands back a ticket whose `ack` settles later; `publish()` is `send()` then the ack.
 * Errors reported in `asyncError` reject that message's ack with a typed error; a broken stream
 * rejects every message in flight on it (retriable BrokerUnavailableError for UNAVAILABLE) and the
 * next message opens a new stream. Messages are not resent automatically (that could duplicate).
 */
export class AsyncPublisher {
  private readonly maxInFlight: number;
  private readonly ackWaitTimeMs: number;
  private readonly ids = new CorrelationIds();
  private readonly calls = new Map<string, PublishCall>();
  private readonly pending = new Map<string, Pending>();
  private readonly slotWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private reserved = 0;
  private closed = false;

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
  async send(stream: string, value: Bytes, options: PublishOptions = {}): Promise<PublishTicket> {
    if (this.closed) throw new ClientClosedError('publisher closed', undefined);
    const key = toBuffer(options.key);
    const body = toBuffer(value);
    const correlationId = options.correlationId ?? this.ids.next();
    if (this.pending.has(correlationId)) throw new InvalidArgumentError(`correlation id ${correlationId} already in flight`, undefined);
    // Reserve the slot first (synchronously when there is room) so concurrent sends keep their order.
    const slot = this.acquireSlot();
    if (slot) await slot;
    let target: PublishTarget;
    try {
      target = this.router.tryPublishTarget(stream, key, body, options) ?? (await this.router.publishTarget(stream, key, body, options));
      if (this.closed) throw new ClientClosedError('publisher closed', undefined);
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    const request = toPublishRequest(stream, target.partition, key, body, correlationId, options);
    let call: PublishCall;
    try {
      call = this.callFor(target.address);
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    if (request.ackPolicy === AckPolicy.NONE) {
      call.write(request);
      this.releaseSlot();
      return { correlationId, partition: target.partition, ack: Promise.resolve(undefined) };
    }
    const ack = new Promise<api.Ack | undefined>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.ackWaitTimeMs;
      const timer = setTimeout(
        () => this.settle(correlationId, undefined, new AckTimeoutError(`no ack for ${correlationId} within ${timeoutMs} ms`, undefined, true)),
        timeoutMs,
      );
      timer.unref();
      this.pending.set(correlationId, { address: target.address, resolve, reject, timer });
    });
    ack.catch(() => undefined); // the caller may only await `send`; never an unhandled rejection
    call.write(request);
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
    clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve(ack);
    this.releaseSlot();
  }

  private callFor(address: string): PublishCall {
    const existing = this.calls.get(address);
    if (existing) return existing;
    const call = this.router.connection(address).publishAsync();
    this.calls.set(address, call);
    call.on('data', (response: api.PublishResponse) => {
      const id = response.correlationId || response.ack?.correlationId || '';
      if (response.asyncError) this.settle(id, undefined, mapAsyncError(response.asyncError.code, response.asyncError.message));
      else this.settle(id, response.ack, null);
    });
    const broken = (error: Error): void => {
      if (this.calls.get(address) === call) this.calls.delete(address);
      for (const [id, entry] of [...this.pending]) if (entry.address === address) this.settle(id, undefined, error);
    };
    call.on('error', (error: unknown) => broken(mapServiceError(error, 'publish')));
    call.on('end', () => broken(new ClientClosedError('PublishAsync stream ended', grpc.status.OK)));
    return call;
  }
}
