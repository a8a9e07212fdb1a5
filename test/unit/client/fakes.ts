import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type * as api from '../../../src/protocol/api-types';
import type { ApiClient } from '../../../src/protocol/api-service-definition';
import type { ClientRouter } from '../../../src/client/router';

/** A PublishAsync call double: records writes; the test answers with `respond`/`fail`. */
export class FakePublishCall extends EventEmitter {
  readonly written: api.PublishRequest[] = [];
  ended = false;
  write(request: api.PublishRequest): boolean {
    this.written.push(request);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  ack(request: api.PublishRequest, offset: bigint): void {
    this.emit('data', { correlationId: request.correlationId, ack: { correlationId: request.correlationId, offset, stream: request.stream } });
  }
  asyncError(request: api.PublishRequest, code: number, message: string): void {
    this.emit('data', { correlationId: request.correlationId, ack: {}, asyncError: { code, message } });
  }
  fail(code: grpc.status, details: string): void {
    this.emit('error', Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }));
  }
}

/** A Subscribe call double behaving like grpc-js: data, then end-of-data, error, status. */
export class FakeSubscribeCall extends PassThrough {
  cancelled = false;
  constructor(readonly request: api.SubscribeRequest) {
    super({ objectMode: true });
  }
  cancel(): void {
    this.cancelled = true;
    this.finishWith(grpc.status.CANCELLED, 'Cancelled on client');
  }
  handshake(): void {
    this.push({ offset: 0n, key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 0n, stream: '', partition: 0, subject: '', replySubject: '', headers: {}, ackInbox: '', correlationId: '', ackPolicy: 0 });
  }
  message(offset: bigint): void {
    this.push({ offset, key: Buffer.alloc(0), value: Buffer.from(`m${offset}`), timestamp: offset, stream: this.request.stream, partition: 0, subject: 's', replySubject: '', headers: {}, ackInbox: '', correlationId: '', ackPolicy: 0 });
  }
  finishWith(code: grpc.status, details: string): void {
    if (this.readableEnded || this.destroyed) return;
    this.push(null);
    if (code !== grpc.status.OK) this.emit('error', Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }));
    this.emit('status', { code, details, metadata: new grpc.Metadata() });
  }
}

/** A router double: one broker at 'b:1', streams with the given partition counts. */
export class FakeRouter implements ClientRouter {
  readonly retry = { attempts: 4, backoffMs: 1, maxBackoffMs: 2 };
  readonly ackWaitTimeMs = 5_000;
  readonly publishCalls: FakePublishCall[] = [];
  readonly subscribeCalls: FakeSubscribeCall[] = [];
  readonly callCreated = new EventEmitter();
  refreshes = 0;
  /** Where publishes go; `leaderAfterRefresh` replaces it on the next metadata refresh. */
  leaderAddress = 'b:1';
  leaderAfterRefresh: string | null = null;
  /** The address of each PublishAsync call, in creation order. */
  readonly publishCallAddresses: string[] = [];

  constructor(private readonly partitions: Record<string, number> = { s: 1 }) {}

  connection(address: string): ApiClient {
    return {
      publishAsync: () => {
        const call = new FakePublishCall();
        this.publishCalls.push(call);
        this.publishCallAddresses.push(address);
        return call;
      },
      subscribe: (request: api.SubscribeRequest) => {
        const call = new FakeSubscribeCall(request);
        this.subscribeCalls.push(call);
        this.callCreated.emit('subscribe', call);
        return call;
      },
    } as unknown as ApiClient;
  }

  tryPublishTarget(stream: string, _key: Buffer, _value: Buffer, options: { partition?: number }) {
    return this.partitions[stream] === undefined ? undefined : { partition: options.partition ?? 0, address: this.leaderAddress };
  }

  async publishTarget(stream: string, key: Buffer, value: Buffer, options: { partition?: number }) {
    const target = this.tryPublishTarget(stream, key, value, options);
    if (!target) throw new Error(`no such stream: ${stream}`);
    return target;
  }

  async partitionAddress(): Promise<string> {
    return 'b:1';
  }

  async refreshMetadata(): Promise<void> {
    this.refreshes += 1;
    if (this.leaderAfterRefresh !== null) this.leaderAddress = this.leaderAfterRefresh;
  }

  /** Resolves with the next Subscribe call created (or an existing one at `index`). */
  nextSubscribeCall(index: number): Promise<FakeSubscribeCall> {
    const existing = this.subscribeCalls[index];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const listener = (): void => {
        const call = this.subscribeCalls[index];
        if (call) {
          this.callCreated.off('subscribe', listener);
          resolve(call);
        }
      };
      this.callCreated.on('subscribe', listener);
    });
  }
}
