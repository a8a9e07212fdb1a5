import * as grpc from '@grpc/grpc-js';
import { ApiClient, createApiClient, UnaryClientMethod } from '../../src/protocol/api-service-definition';
import * as api from '../../src/protocol/api-types';
import { ProtoInit } from '../../src/protocol/proto-schema';
import { waitFor } from './ports';

export type { ApiClient };

export function connectClient(address: string): ApiClient {
  return createApiClient(address, grpc.credentials.createInsecure());
}

/** Promisified unary call with a deadline; rejects with the ServiceError. */
export function call<Req, Res>(
  method: UnaryClientMethod<Req, Res>,
  client: ApiClient,
  request: ProtoInit<Req>,
  timeoutMs = 10_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const options: Partial<grpc.CallOptions> = { deadline: Date.now() + timeoutMs };
    const callback = (error: grpc.ServiceError | null, response?: Res): void => (error ? reject(error) : resolve(response as Res));
    (method as (r: ProtoInit<Req>, o: Partial<grpc.CallOptions>, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall).call(client, request, options, callback);
  });
}

export interface Collected {
  readonly messages: api.Message[];
  /** Resolves with the final status (OK when the client cancelled). */
  readonly done: Promise<grpc.StatusObject | grpc.ServiceError>;
  /** Resolves on the handshake: the server has set the subscription up. */
  readonly ready: Promise<void>;
  cancel(): void;
  /** Resolves when at least `n` messages (handshake excluded) arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<api.Message[]>;
}

/** Subscribes and collects messages, swallowing the empty handshake message like Liftbridge clients do. */
export function subscribe(client: ApiClient, request: ProtoInit<api.SubscribeRequest>): Collected {
  const stream = client.subscribe(request);
  const messages: api.Message[] = [];
  let handshake = false;
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const waiters: { n: number; resolve: () => void }[] = [];
  stream.on('data', (m: api.Message) => {
    if (!handshake) {
      handshake = true;
      onReady();
      return;
    }
    messages.push(m);
    for (const w of [...waiters]) if (messages.length >= w.n) w.resolve();
  });
  const done = new Promise<grpc.StatusObject | grpc.ServiceError>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => resolve(e));
    stream.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve(s);
    });
  });
  return {
    messages,
    done,
    ready,
    cancel: () => stream.cancel(),
    waitFor: (n, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        if (messages.length >= n) return resolve(messages);
        const timer = setTimeout(() => reject(new Error(`got ${messages.length} of ${n} messages`)), timeoutMs);
        const settle = (): void => {
          clearTimeout(timer);
          resolve(messages);
        };
        waiters.push({ n, resolve: settle });
        done.then((status) => {
          clearTimeout(timer);
          if (messages.length < n) reject(new Error(`stream ended (${status.code} ${status.details}) after ${messages.length} of ${n} messages`));
        });
      }),
  };
}

/** Subscribes, waits for `count` messages and returns their values as text; the subscription is then cancelled. */
export async function readValues(client: ApiClient, request: ProtoInit<api.SubscribeRequest>, count: number, timeoutMs = 10_000): Promise<string[]> {
  const sub = subscribe(client, request);
  try {
    return (await sub.waitFor(count, timeoutMs)).slice(0, count).map((m) => Buffer.from(m.value).toString());
  } finally {
    sub.cancel();
    await sub.done;
  }
}

/**
 * A single-server smoke test of the data path: creates stream `name` on subject `name`, waits for
 * its leader, publishes `value` with a leader ack and reads it back (the values read).
 */
export async function publishAndReadBack(client: ApiClient, name: string, value: string): Promise<string[]> {
  await call(client.createStream, client, { name, subject: name });
  await waitFor(() => call(client.fetchPartitionMetadata, client, { stream: name, partition: 0 }).then(() => true, () => false), 10_000, `the leader of ${name}`);
  await call(client.publish, client, { stream: name, value: Buffer.from(value), ackPolicy: api.AckPolicy.LEADER, expectedOffset: -1n });
  return readValues(client, { stream: name, startPosition: api.StartPosition.EARLIEST }, 1);
}
