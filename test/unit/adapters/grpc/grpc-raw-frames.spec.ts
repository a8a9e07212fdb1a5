import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rawFrameWriter } from '../../../../src/protocol/grpc-raw-frames';

/** A server-streaming method with identity (de)serializers: messages are raw bytes both ways. */
const identity = (b: Buffer): Buffer => b;
const definition: grpc.ServiceDefinition = {
  Stream: {
    path: '/test.Raw/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const RawClient = grpc.makeGenericClientConstructor(definition, 'Raw');

/** Length-prefixed gRPC messages (flag 0, uint32 BE length) in one buffer. */
function frames(messages: readonly Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => { const prefix = Buffer.alloc(5); prefix.writeUInt32BE(m.length, 1); return [prefix, m]; }));
}

const message = (i: number, size: number): Buffer => { const b = Buffer.alloc(size, i % 251); b.writeUInt32BE(i); return b; };

describe('rawFrameWriter (framed messages straight to the HTTP/2 stream, against the pinned grpc-js)', () => {
  let server: grpc.Server;
  let client: grpc.Client & { Stream(request: Buffer): grpc.ClientReadableStream<Buffer> };
  let handler: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(definition, { Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => handler(call) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new RawClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  /** Reads the whole stream: the messages in order, then the status. */
  function readAll(call: grpc.ClientReadableStream<Buffer>): Promise<{ messages: Buffer[]; status: grpc.StatusObject }> {
    const messages: Buffer[] = [];
    return new Promise((resolve) => {
      let status: grpc.StatusObject | null = null;
      let ended = false;
      const done = (): void => { if (status && ended) resolve({ messages, status }); };
      call.on('data', (m: Buffer) => messages.push(m));
      call.on('status', (s: grpc.StatusObject) => { status = s; done(); });
      call.on('error', () => { ended = true; done(); });
      call.on('end', () => { ended = true; done(); });
    });
  }

  it('delivers many messages per write as separate messages, in order, then the status grpc-js sends', async () => {
    const sent = Array.from({ length: 3000 }, (_, i) => message(i, i % 3 === 0 ? 4 : 4 + (i % 1500)));
    let found = false;
    handler = (call) => {
      const raw = rawFrameWriter(call);
      found = raw !== null;
      if (!raw) return call.emit('error', { code: grpc.status.INTERNAL, details: 'no raw frame writer' });
      const abort = new AbortController();
      void (async () => {
        raw!.write(frames([Buffer.alloc(0)]));
        for (let at = 0; at < sent.length; at += 500) {
          raw!.write(frames(sent.slice(at, at + 500)));
          if (raw!.bufferedBytes > 64 * 1024) await raw!.drained(abort.signal);
        }
        call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'Stop offset reached' });
      })();
    };
    const { messages, status } = await readAll(client.Stream(Buffer.alloc(0)));
    expect(found).toBe(true);
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toBe('Stop offset reached');
    expect(messages.length).toBe(sent.length + 1);
    expect(messages[0]!.length).toBe(0);
    for (let i = 0; i < sent.length; i++) {
      if (!messages[i + 1]!.equals(sent[i]!)) throw new Error(`message ${i} differs`);
    }
  });

  it('ends cleanly with OK after raw writes when the call ends', async () => {
    handler = (call) => {
      rawFrameWriter(call)!.write(frames([Buffer.from('a'), Buffer.from('bc')]));
      call.end();
    };
    const { messages, status } = await readAll(client.Stream(Buffer.alloc(0)));
    expect(status.code).toBe(grpc.status.OK);
    expect(messages.map((m) => m.toString())).toEqual(['a', 'bc']);
  });

  it('wakes a writer waiting for drain when the client cancels', async () => {
    const woke = new Promise<boolean>((resolve) => {
      handler = (call) => {
        const raw = rawFrameWriter(call)!;
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        raw.write(frames([Buffer.alloc(0)]));
        raw.write(frames(Array.from({ length: 200 }, (_, i) => message(i, 64 * 1024))));
        void raw.drained(abort.signal).then(() => resolve(abort.signal.aborted));
      };
    });
    const call = client.Stream(Buffer.alloc(0));
    call.on('error', () => undefined);
    call.once('data', () => call.cancel()); // the client never reads past the first message
    expect(await woke).toBe(true);
  });

  it('works the same over TLS (the HTTP/2 stream of a secure server)', async () => {
    const fixtures = path.join(__dirname, '../../infrastructure/config/fixtures/tls');
    const cert = fs.readFileSync(path.join(fixtures, 'server.crt'));
    const key = fs.readFileSync(path.join(fixtures, 'server.key'));
    const secure = new grpc.Server();
    secure.addService(definition, {
      Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const raw = rawFrameWriter(call);
        if (!raw) return call.emit('error', { code: grpc.status.INTERNAL, details: 'no raw frame writer' });
        raw.write(frames(Array.from({ length: 2000 }, (_, i) => message(i, 700))));
        call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'End of readonly partition' });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      secure.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const tlsClient = new RawClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(cert), { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as typeof client;
    try {
      const { messages, status } = await readAll(tlsClient.Stream(Buffer.alloc(0)));
      expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(status.details).toBe('End of readonly partition');
      expect(messages.length).toBe(2000);
      expect(messages.every((m, i) => m.equals(message(i, 700)))).toBe(true);
    } finally {
      tlsClient.close();
      secure.forceShutdown();
    }
  });

  it('returns null (use call.write) when grpc-js is not shaped as expected', () => {
    expect(rawFrameWriter({ writableLength: 0 } as unknown as grpc.ServerWritableStream<unknown, unknown>)).toBeNull();
    expect(rawFrameWriter({ writableLength: 0, call: { maybeSendMetadata: () => undefined } } as unknown as grpc.ServerWritableStream<unknown, unknown>)).toBeNull();
  });
});
