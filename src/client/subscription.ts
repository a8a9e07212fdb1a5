import * as grpc from '@grpc/grpc-js';
import type * as api from '../protocol/api-types';
import { StartPosition } from '../protocol/api-types';
import {
  BrokerUnavailableError,
  ClientClosedError,
  isNotLeader,
  isServiceError,
  mapServiceError,
  PartitionPausedError,
  StreamDeletedError,
} from './errors';
import { backoffDelay, delay } from './retry';
import type { ClientRouter } from './router';
import { ReceivedMessage, toReceivedMessage } from './types';

export interface SubscriptionSettings {
  /** Messages buffered before the gRPC stream is paused. */
  readonly highWaterMark: number;
  /** How long to keep resubscribing after a delivered stream breaks (go-liftbridge: 30 s). */
  readonly resubscribeWaitMs: number;
}

/** How one Subscribe RPC ended. */
interface CallOutcome {
  readonly status: grpc.StatusObject | null;
  readonly error: unknown;
  readonly handshaken: boolean;
}

/**
 * One partition subscription (docs/protocol.md "Subscribe"), consumed with `for await`. The handshake is swallowed;
 * when the broker goes away or the partition's log is closed under it (leader change, restart)
 * it resubscribes from the last delivered offset + 1, dropping anything already delivered, so
 * the caller sees neither a gap nor a duplicate. Stop-offset and readonly ends complete the
 * iteration; deletion and pausing surface as StreamDeletedError and PartitionPausedError.
 */
export class Subscription implements AsyncIterable<ReceivedMessage> {
  /** Resolves once the first subscribe handshake arrived; rejects if the subscription failed first. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  private readonly queue: ReceivedMessage[] = [];
  private waiter: ((result: IteratorResult<ReceivedMessage>) => void) | null = null;
  private waiterReject: ((error: Error) => void) | null = null;
  private failure: Error | null = null;
  private finished = false;
  private closed = false;
  private call: grpc.ClientReadableStream<api.Message> | null = null;
  private lastOffset: bigint | null = null;
  private handshakes = 0;

  constructor(
    private readonly router: ClientRouter,
    private readonly request: api.SubscribeRequest,
    private readonly settings: SubscriptionSettings,
    private readonly onFinished: () => void = () => undefined,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    void this.run();
  }

  get stream(): string {
    return this.request.stream;
  }

  get partition(): number {
    return this.request.partition;
  }

  /** Offset of the last message received (delivered or buffered), or null. */
  get lastReceivedOffset(): bigint | null {
    return this.lastOffset;
  }

  /** How many Subscribe RPCs were established (1 + resubscriptions). */
  get connections(): number {
    return this.handshakes;
  }

  /** Stops the subscription; a pending or later `next()` completes. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call?.cancel();
    this.call?.resume(); // drain what is buffered (dropped) so the call reaches its end
    this.rejectReady(new ClientClosedError('subscription closed', undefined));
    this.queue.length = 0;
    this.finish(null);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private next(): Promise<IteratorResult<ReceivedMessage>> {
    const value = this.queue.shift();
    if (value !== undefined) {
      if (this.queue.length <= this.settings.highWaterMark / 2) this.call?.resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    this.call?.resume();
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }

  private push(message: ReceivedMessage): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      this.waiterReject = null;
      waiter({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (this.queue.length >= this.settings.highWaterMark) this.call?.pause();
  }

  private finish(error: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.call = null;
    this.onFinished();
    if (error) this.rejectReady(error);
    else this.resolveReady();
    if (this.waiter) {
      const [resolve, reject] = [this.waiter, this.waiterReject!];
      this.waiter = null;
      this.waiterReject = null;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    } else if (error) {
      this.failure = error;
    }
  }

  private currentRequest(): api.SubscribeRequest {
    if (this.lastOffset === null) return this.request;
    return { ...this.request, startPosition: StartPosition.OFFSET, startOffset: this.lastOffset + 1n, resume: false };
  }

  private async run(): Promise<void> {
    const policy = this.router.retry;
    let attempt = 0;
    let resubscribeDeadline: number | null = null;
    while (!this.closed) {
      let outcome: CallOutcome;
      try {
        const address = await this.router.partitionAddress(this.request.stream, this.request.partition, this.request.readISRReplica);
        if (this.closed) return;
        outcome = await this.openCall(address);
      } catch (error) {
        outcome = { status: null, error, handshaken: false };
      }
      if (this.closed) return;
      if (outcome.handshaken) {
        attempt = 0;
        resubscribeDeadline = null;
      }
      const decision = this.classify(outcome);
      if (decision.kind === 'complete') return this.finish(null);
      if (decision.kind === 'fail') return this.finish(decision.error);
      // Retry: before the first handshake a bounded number of attempts (go-liftbridge: 5);
      // afterwards for up to resubscribeWaitMs since the stream broke.
      if (this.handshakes === 0) {
        if (attempt + 1 >= policy.attempts) return this.finish(decision.error);
      } else {
        resubscribeDeadline ??= performance.now() + this.settings.resubscribeWaitMs;
        if (performance.now() >= resubscribeDeadline) return this.finish(decision.error);
      }
      await delay(backoffDelay(policy, attempt));
      attempt += 1;
      if (this.closed) return;
      await this.router.refreshMetadata([this.request.stream]).catch(() => undefined);
    }
  }

  private classify(outcome: CallOutcome): { kind: 'complete' } | { kind: 'fail' | 'retry'; error: Error } {
    const { status, error, handshaken } = outcome;
    if (status === null) {
      // Routing failed (metadata) or a non-gRPC error.
      const mapped = mapServiceError(error, 'subscribe');
      const retriable = (mapped as { retriable?: boolean }).retriable === true;
      return { kind: retriable ? 'retry' : 'fail', error: mapped };
    }
    const { code, details } = status;
    const serviceError = Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), status) as grpc.ServiceError;
    switch (code) {
      case grpc.status.OK:
      case grpc.status.RESOURCE_EXHAUSTED:
        return { kind: 'complete' };
      case grpc.status.UNAVAILABLE:
        return { kind: 'retry', error: new BrokerUnavailableError(details, code, true, { cause: serviceError }) };
      case grpc.status.INTERNAL:
        if (/commit log was closed/i.test(details)) return { kind: 'retry', error: mapServiceError(serviceError, 'subscribe') };
        break;
      case grpc.status.NOT_FOUND:
        if (handshaken) return { kind: 'fail', error: new StreamDeletedError(details, code, false, { cause: serviceError }) };
        break;
      case grpc.status.FAILED_PRECONDITION:
        if (!handshaken && isNotLeader(serviceError)) return { kind: 'retry', error: mapServiceError(serviceError, 'subscribe') };
        return { kind: 'fail', error: new PartitionPausedError(details, code, false, { cause: serviceError }) };
      default:
        break;
    }
    return { kind: 'fail', error: mapServiceError(serviceError, 'subscribe') };
  }

  /** Runs one Subscribe RPC until its status is known and every received message was handled. */
  private openCall(address: string): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const call = this.router.connection(address).subscribe(this.currentRequest());
      this.call = call;
      let handshaken = false;
      let status: grpc.StatusObject | null = null;
      let ended = false;
      let error: unknown = null;
      const settle = (): void => {
        if (status !== null && ended) {
          if (this.call === call) this.call = null;
          resolve({ status, error, handshaken });
        }
      };
      call.on('data', (message: api.Message) => {
        if (!handshaken) {
          handshaken = true;
          this.handshakes += 1;
          this.resolveReady();
          return;
        }
        if (this.closed) return;
        if (this.lastOffset !== null && message.offset <= this.lastOffset) return;
        this.lastOffset = message.offset;
        this.push(toReceivedMessage(message));
      });
      call.on('error', (e: unknown) => {
        error = e;
        if (status === null && isServiceError(e)) status = { code: e.code, details: e.details, metadata: e.metadata };
        // grpc-js pushes end-of-data before emitting the error, so 'end' still follows once the
        // buffered messages were consumed; settling waits for it so none is lost.
        settle();
      });
      call.on('status', (s: grpc.StatusObject) => {
        status ??= s;
        settle();
      });
      call.on('end', () => {
        ended = true;
        settle();
      });
    });
  }
}
