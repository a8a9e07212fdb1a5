import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@node-rs/crc32';
import * as api from '../../../../src/protocol/api-proto';
import { ServingStatus } from '../../../../src/protocol/health-proto';
import { encodeSubscribeMessage } from '../../../../src/adapters/codec/subscribe-message-codec';
import {
  addApiService,
  apiServiceDefinition,
  createApiClient,
  type ApiClient,
} from '../../../../src/protocol/api-service-definition';
import {
  addHealthService,
  createHealthClient,
  healthServiceDefinition,
  type HealthClient,
} from '../../../../src/adapters/inbound/grpc/health-service-definition';

const NS = 1700000000123456789n;

/** One stored entry (docs/storage.md "Message-set entry") with value "hello" and a subject header. */
function storedEntry(offset: bigint): Buffer {
  const name = Buffer.from('subject');
  const subject = Buffer.from('foo');
  const body = Buffer.alloc(2 + 4 + 4 + 5 + 2 + 2 + name.length + 4 + subject.length);
  let p = 0;
  body[p++] = 1; // magic
  body[p++] = 0; // attributes
  p = body.writeInt32BE(-1, p); // null key
  p = body.writeInt32BE(5, p);
  p += body.write('hello', p);
  p = body.writeInt16BE(1, p);
  p = body.writeInt16BE(name.length, p);
  p += name.copy(body, p);
  p = body.writeInt32BE(subject.length, p);
  subject.copy(body, p);
  const header = Buffer.alloc(32);
  header.writeBigInt64BE(offset, 0);
  header.writeBigInt64BE(NS, 8);
  header.writeBigUInt64BE(1n, 16);
  header.writeUInt32BE(4 + body.length, 24);
  header.writeUInt32BE(crc32c(body) >>> 0, 28);
  return Buffer.concat([header, body]);
}

describe('gRPC service definitions (smoke test over a real grpc-js server)', () => {
  let server: grpc.Server;
  let client: ApiClient;
  let health: HealthClient;
  const received: api.CreateStreamRequest[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    addApiService(server, {
      createStream: (call, callback) => {
        received.push(call.request);
        if (call.request.name === 'exists') {
          callback({ code: grpc.status.ALREADY_EXISTS, details: 'stream already exists' });
          return;
        }
        callback(null, {});
      },
      subscribe: (call) => {
        call.write({}); // the empty handshake Message
        call.write(encodeSubscribeMessage(storedEntry(7n), 0, call.request.stream, call.request.partition));
        call.end();
      },
      fetchCursor: (_call, callback) => callback(null, { offset: 2n ** 62n }),
      publishAsync: (call) => {
        call.on('data', (request: api.PublishRequest) => {
          call.write({ correlationId: request.correlationId, ack: { offset: request.expectedOffset, receptionTimestamp: NS } });
        });
        call.on('end', () => call.end());
      },
    });
    addHealthService(server, {
      check: (call, callback) => callback(null, { status: call.request.service === 'proto.API' ? ServingStatus.SERVING : ServingStatus.SERVICE_UNKNOWN }),
      watch: (call) => {
        call.write({ status: ServingStatus.NOT_SERVING });
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        (error ? reject(error) : resolve(boundPort))));
    client = createApiClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    health = createHealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client?.close();
    health?.close();
    server?.forceShutdown();
  });

  const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 5000 });

  it('describes all 16 methods with the right paths and streaming flags', () => {
    const methods = Object.entries(apiServiceDefinition);
    expect(methods).toHaveLength(16);
    for (const [name, definition] of methods) {
      expect(definition.path).toBe(`/proto.API/${name}`);
      expect(definition.requestStream).toBe(name === 'PublishAsync');
      expect(definition.responseStream).toBe(name === 'PublishAsync' || name === 'Subscribe');
    }
    expect(Object.values(healthServiceDefinition).map((d) => [d.path, d.responseStream]))
      .toEqual([['/grpc.health.v1.Health/Check', false], ['/grpc.health.v1.Health/Watch', true]]);
  });

  it('unary CreateStream: the handler sees a decoded request with bigint wrappers', async () => {
    const response = await new Promise<api.CreateStreamResponse>((resolve, reject) =>
      client.createStream(
        { name: 'foo', subject: 'foo.bar', partitions: 2, retentionMaxAge: { value: 3_600_000n }, compactEnabled: { value: true } },
        deadline(),
        (error, value) => (error ? reject(error) : resolve(value!)),
      ));
    expect(response).toEqual({});
    expect(received.at(-1)).toMatchObject({ name: 'foo', subject: 'foo.bar', partitions: 2, retentionMaxAge: { value: 3_600_000n }, compactEnabled: { value: true }, minIsr: undefined });
  });

  it('unary errors carry the status code and message', async () => {
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      client.createStream({ name: 'exists' }, deadline(), (e) => resolve(e!)));
    expect(error.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(error.details).toBe('stream already exists');
  });

  it('unary responses keep int64 precision', async () => {
    const response = await new Promise<api.FetchCursorResponse>((resolve, reject) =>
      client.fetchCursor({ stream: 's', cursorId: 'c' }, deadline(), (e, v) => (e ? reject(e) : resolve(v!))));
    expect(response.offset).toBe(2n ** 62n);
  });

  it('server-streaming Subscribe: an empty handshake Message, then a pre-encoded Buffer, then the end', async () => {
    const messages: api.Message[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.subscribe({ stream: 'foo', partition: 1, startPosition: api.StartPosition.EARLIEST }, deadline());
      stream.on('data', (m: api.Message) => messages.push(m));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({ offset: 0n, stream: '', value: Buffer.alloc(0) });
    expect(messages[1]).toMatchObject({ offset: 7n, timestamp: NS, stream: 'foo', partition: 1, subject: 'foo', value: Buffer.from('hello') });
    expect({ ...messages[1]!.headers }).toEqual({ subject: Buffer.from('foo') });
  });

  it('bidi PublishAsync: responses follow requests', async () => {
    const responses: api.PublishResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.publishAsync(deadline());
      stream.on('data', (r: api.PublishResponse) => responses.push(r));
      stream.on('error', reject);
      stream.on('end', resolve);
      stream.write({ stream: 'foo', value: Buffer.from('a'), correlationId: '1', expectedOffset: -1n });
      stream.write({ stream: 'foo', value: Buffer.from('b'), correlationId: '2', expectedOffset: 5n });
      stream.end();
    });
    expect(responses.map((r) => [r.correlationId, r.ack?.offset, r.ack?.receptionTimestamp])).toEqual([['1', -1n, NS], ['2', 5n, NS]]);
  });

  it('methods without a handler answer UNIMPLEMENTED', async () => {
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      client.fetchMetadata({}, deadline(), (e) => resolve(e!)));
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('a malformed request is refused (INTERNAL) without reaching the handler (reliability A17)', async () => {
    const before = received.length;
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest(
        '/proto.API/CreateStream',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        Buffer.from([0x12, 0x80, 0x80, 0x80, 0x80, 0x08, 0x61]), // name with a 2^31 length prefix
        new grpc.Metadata(),
        deadline(),
        (e) => resolve(e!),
      ));
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(received.length).toBe(before);
  });

  it('health Check and Watch', async () => {
    const status = await new Promise<ServingStatus>((resolve, reject) =>
      health.check({ service: 'proto.API' }, deadline(), (e, r) => (e ? reject(e) : resolve(r!.status))));
    expect(status).toBe(ServingStatus.SERVING);
    const watched = await new Promise<ServingStatus[]>((resolve, reject) => {
      const statuses: ServingStatus[] = [];
      const stream = health.watch({ service: 'proto.API' }, deadline());
      stream.on('data', (r: { status: ServingStatus }) => statuses.push(r.status));
      stream.on('error', reject);
      stream.on('end', () => resolve(statuses));
    });
    expect(watched).toEqual([ServingStatus.NOT_SERVING]);
  });
});
