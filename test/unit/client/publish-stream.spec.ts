import * as grpc from '@grpc/grpc-js';
import type { PublishRequest, PublishResponse } from '../../../src/protocol/api-types';
import { ProtobufEncodeError } from '../../../src/protocol/codec-errors';
import type { ProtoInit } from '../../../src/protocol/proto-schema';
import { apiServiceDefinition, createApiClient, type ApiClient } from '../../../src/protocol/api-service-definition';
import { probeRawWriter, PublishStream, type PublishCall } from '../../../src/client/publish-stream';

/**
 * PublishStream against the pinned grpc-js, over a real HTTP/2 connection: a PublishAsync server
 * that records every request and answers each with its correlation id.
 */
describe('PublishStream (PublishAsync requests many per HTTP/2 write, against the pinned grpc-js)', () => {
  let server: grpc.Server;
  let client: ApiClient;
  let received: PublishRequest[][];

  beforeAll(async () => {
    server = new grpc.Server();
    received = [];
    server.addService(apiServiceDefinition, {
      PublishAsync: (call: grpc.ServerDuplexStream<PublishRequest, ProtoInit<PublishResponse>>) => {
        const requests: PublishRequest[] = [];
        received.push(requests);
        call.on('data', (request: PublishRequest) => {
          requests.push(request);
          call.write({ correlationId: request.correlationId, ack: { offset: BigInt(requests.length - 1), correlationId: request.correlationId } });
        });
        call.on('end', () => call.end());
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = createApiClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const request = (i: number): ProtoInit<PublishRequest> => ({
    stream: 's',
    value: Buffer.alloc(50 + (i % 300), i % 251),
    correlationId: `c${i}`,
    headers: i % 7 === 0 ? { h: Buffer.from(String(i)) } : {},
    expectedOffset: -1n,
  });

  /** Sends `total` requests, up to `window` unanswered, and resolves once the stream ended. */
  function run(stream: PublishStream, total: number, window: number): Promise<{ responses: string[]; batchedFrom: number | null }> {
    const responses: string[] = [];
    let sent = 0;
    let batchedFrom: number | null = null;
    const pump = (): void => {
      while (sent < total && sent - responses.length < window) {
        if (batchedFrom === null && stream.batching) batchedFrom = sent;
        stream.write(request(sent++));
      }
      if (responses.length === total) stream.end();
    };
    return new Promise((resolve, reject) => {
      stream.call.on('data', (response: PublishResponse) => {
        stream.onResponse();
        responses.push(response.correlationId);
        pump();
      });
      stream.call.on('error', reject);
      stream.call.on('end', () => resolve({ responses, batchedFrom }));
      pump();
    });
  }

  it('switches to batched writes once the call is committed; the server gets every request, intact and in order', async () => {
    const stream = new PublishStream(client.publishAsync());
    const { responses, batchedFrom } = await run(stream, 3000, 500);
    expect(batchedFrom).not.toBeNull(); // the raw path was taken, after some requests went through grpc-js
    expect(batchedFrom!).toBeGreaterThan(0);
    const requests = received[received.length - 1]!;
    expect(requests.map((r) => r.correlationId)).toEqual(Array.from({ length: 3000 }, (_, i) => `c${i}`));
    // One assertion over all 3000 (jest's per-Buffer matchers would take seconds).
    const damaged = requests.filter((r, i) =>
      !r.value.equals(request(i).value as Buffer) || r.expectedOffset !== -1n || (i % 7 === 0 && !r.headers['h']?.equals(Buffer.from(String(i)))));
    expect(damaged).toEqual([]);
    expect(responses).toHaveLength(3000);
  });

  it('half-closes after the requests still in the batch (end() flushes it first)', async () => {
    const stream = new PublishStream(client.publishAsync());
    let answered = 0;
    let batchingWhenEnded = false;
    const ended = new Promise<void>((resolve, reject) => {
      stream.call.on('data', () => {
        stream.onResponse();
        if (++answered !== 100) return;
        // Written and ended in one synchronous run: the batch has not gone out when end() is called.
        batchingWhenEnded = stream.batching;
        for (let i = 100; i < 150; i++) stream.write(request(i));
        stream.end();
      });
      stream.call.on('error', reject);
      stream.call.on('end', () => resolve());
    });
    for (let i = 0; i < 100; i++) stream.write(request(i));
    await ended;
    expect(batchingWhenEnded).toBe(true);
    expect(received[received.length - 1]!.map((r) => r.correlationId)).toEqual(Array.from({ length: 150 }, (_, i) => `c${i}`));
  });

  it('refuses a request it cannot encode without writing anything, and goes on with the next ones', async () => {
    const stream = new PublishStream(client.publishAsync());
    let answered = 0;
    const refusals: unknown[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.call.on('data', () => {
        stream.onResponse();
        if (++answered !== 20) return;
        for (const ackPolicy of [1.5, 2 ** 40]) {
          try {
            stream.write({ ...request(20), ackPolicy });
          } catch (error) {
            refusals.push(error);
          }
        }
        for (let i = 20; i < 30; i++) stream.write(request(i));
        stream.end();
      });
      stream.call.on('error', reject);
      stream.call.on('end', () => resolve());
    });
    for (let i = 0; i < 20; i++) stream.write(request(i));
    await ended;
    expect(refusals).toHaveLength(2);
    for (const error of refusals) expect(error).toBeInstanceOf(ProtobufEncodeError);
    expect(received[received.length - 1]!.map((r) => r.correlationId)).toEqual(Array.from({ length: 30 }, (_, i) => `c${i}`));
  });

  it('is not-yet before the call is committed, and unsupported for anything grpc-js did not make', () => {
    const call = client.publishAsync();
    expect(probeRawWriter(call)).toBe('not-yet'); // no request sent, nothing committed
    call.cancel();
    call.on('error', () => undefined);
    expect(probeRawWriter({ call: {} } as unknown as PublishCall)).toBe('unsupported');
    expect(probeRawWriter({} as unknown as PublishCall)).toBe('unsupported');
    const compressed = { call: { call: { writeFilterPending: false, filterStack: { filters: [{ currentCompressionAlgorithm: 'gzip' }] } } } };
    expect(probeRawWriter(compressed as unknown as PublishCall)).toBe('unsupported');
  });

  it('stays on call.write when the internals are not there', () => {
    const written: unknown[] = [];
    const fake = { write: (r: unknown) => written.push(r), end: () => written.push('end') } as unknown as PublishCall;
    const stream = new PublishStream(fake);
    stream.onResponse();
    stream.write(request(1));
    stream.end();
    expect(stream.batching).toBe(false);
    expect(written).toEqual([request(1), 'end']);
  });
});
