import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { decodeMessageSet } from '../../../src/adapters/codec/message-set';
import { MasterKey } from '../../../src/adapters/outbound/crypto/master-key';
import { ApiClient, call, connectClient, readValues, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { freePort } from '../../support/ports';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

/**
 * Encryption at rest on one server with real NATS, gRPC and files (docs/encryption.md): what is on
 * disk, what readers get, restarts with the same key, another key and none, and the master key
 * kept out of logs, errors and metrics.
 */
const KEY = 'integration-master-key-32-bytes!';
const OTHER_KEY = '16-byte-other-k!';
const namespace = `enc${Math.floor(Math.random() * 1e9)}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-enc-'));

let nats: TestNatsServer;
let httpPort: number;
let server: StartedTestBroker | null = null;
let client: ApiClient;
/** Every server started here, for the log check at the end. */
const started: StartedTestBroker[] = [];
/** Every error detail a client saw, for the same check. */
const details: string[] = [];

async function restart(key: string | null, streams: { encryption?: boolean } = {}): Promise<void> {
  client?.close();
  await server?.stop();
  server = await startTestBroker(
    testBrokerConfig(nats.url, {
      dataDir,
      logging: { level: 'debug' },
      http: { host: '127.0.0.1', port: httpPort },
      clustering: { serverId: 'a', namespace },
      streams: { ...streams, encryptionKey: key === null ? null : MasterKey.fromString(key) },
    }),
  );
  started.push(server);
  client = connectClient(server.address);
}

let published = 0;
/** Publishes `value` with the key `key-<n>` and the header h = `header-<n>` (n counts publishes). */
const publish = (stream: string, value: string): Promise<api.PublishResponse> => {
  const n = published++;
  return call(client.publish, client, { stream, key: Buffer.from(`key-${n}`), value: Buffer.from(value), headers: { h: Buffer.from(`header-${n}`) }, ackPolicy: api.AckPolicy.LEADER });
};

const refusal = async (promise: Promise<unknown>): Promise<grpc.ServiceError> => {
  const error = await promise.then(() => null, (e: grpc.ServiceError) => e);
  if (error === null) throw new Error('expected the call to be refused');
  details.push(error.details);
  return error;
};

/** Every file under the data directory, concatenated: what an attacker with the disk reads. */
function diskBytes(): Buffer {
  const chunks: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else chunks.push(fs.readFileSync(p));
    }
  };
  walk(dataDir);
  return Buffer.concat(chunks);
}

/** The values of a partition as stored in its segment files. */
function storedValues(stream: string): Buffer[] {
  const dir = path.join(dataDir, 'streams', stream, '0');
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  return logs.flatMap((f) => decodeMessageSet(fs.readFileSync(path.join(dir, f))).map((e) => e.value!));
}

const earliest = (stream: string): api.SubscribeRequest =>
  ({ stream, partition: 0, startPosition: api.StartPosition.EARLIEST }) as api.SubscribeRequest;

beforeAll(async () => {
  nats = await TestNatsServer.start();
  httpPort = await freePort();
  await restart(KEY);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  await nats?.stop();
});

describe('encryption at rest', () => {
  it('stores no plaintext of an encrypted stream (a clear stream\'s is there), and subscribers get the values back', async () => {
    await call(client.createStream, client, { name: 'secret', subject: 'secret', encryption: { value: true } });
    await call(client.createStream, client, { name: 'clear', subject: 'clear' });
    for (let i = 0; i < 3; i++) expect(Number((await publish('secret', `SECRET-VALUE-${i}`)).ack!.offset)).toBe(i);
    await publish('clear', 'CLEAR-VALUE-0');
    const disk = diskBytes();
    for (let i = 0; i < 3; i++) expect(disk.includes(`SECRET-VALUE-${i}`)).toBe(false);
    expect(disk.includes('key-0')).toBe(true); // keys and headers stay in clear
    expect(disk.includes('header-0')).toBe(true);
    expect(disk.includes('CLEAR-VALUE-0')).toBe(true);
    expect(storedValues('secret').map((v) => v.length)).toEqual([0, 1, 2].map((i) => `SECRET-VALUE-${i}`.length + 69));

    const sub = subscribe(client, earliest('secret'));
    const messages = (await sub.waitFor(3)).slice(0, 3);
    sub.cancel();
    expect(messages.map((m) => Buffer.from(m.value).toString())).toEqual(['SECRET-VALUE-0', 'SECRET-VALUE-1', 'SECRET-VALUE-2']);
    expect(Buffer.from(messages[0]!.key).toString()).toBe('key-0');
    expect(Buffer.from(messages[0]!.headers['h']!).toString()).toBe('header-0');
  });

  it('seals what plain NATS publishers send on the stream\'s subject', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      nc.publish('secret', Buffer.from('NATS-RAW-SECRET'));
      await nc.flush();
    } finally {
      await nc.close();
    }
    expect(await readValues(client, { ...earliest('secret'), startPosition: api.StartPosition.OFFSET, startOffset: 3n }, 1)).toEqual(['NATS-RAW-SECRET']);
    expect(diskBytes().includes('NATS-RAW-SECRET')).toBe(false);
  });

  it('seals under a new data key after a restart; old and new values read back', async () => {
    await restart(KEY);
    await publish('secret', 'AFTER-RESTART');
    const wrappedKeys = storedValues('secret').map((v) => v.subarray(1, 41).toString('hex'));
    expect(new Set(wrappedKeys.slice(0, 4)).size).toBe(1);
    expect(wrappedKeys[4]).not.toBe(wrappedKeys[0]);
    expect(await readValues(client, earliest('secret'), 5)).toEqual(['SECRET-VALUE-0', 'SECRET-VALUE-1', 'SECRET-VALUE-2', 'NATS-RAW-SECRET', 'AFTER-RESTART']);
    expect(diskBytes().includes('AFTER-RESTART')).toBe(false);
  });

  it('with another master key: the reader of old values gets a clear error, the server and other readers go on', async () => {
    await restart(OTHER_KEY);
    const old = subscribe(client, earliest('secret'));
    const status = (await old.done) as grpc.ServiceError;
    details.push(status.details);
    expect(old.messages).toHaveLength(0);
    expect(status.code).toBe(grpc.status.UNKNOWN);
    expect(status.details).toBe(
      "cannot decrypt the value at offset 0: its data key does not unwrap with this server's master key (LIFTBRIDGE_ENCRYPTION_KEY is not the key it was sealed with, or the stored data key is damaged)",
    );
    expect(await readValues(client, earliest('clear'), 1)).toEqual(['CLEAR-VALUE-0']);
    const offset = (await publish('secret', 'UNDER-OTHER-KEY')).ack!.offset;
    expect(await readValues(client, { ...earliest('secret'), startPosition: api.StartPosition.OFFSET, startOffset: offset }, 1)).toEqual(['UNDER-OTHER-KEY']);
  });

  it('without a key: publishes get the ENCRYPTION error and nothing is stored; encrypted streams cannot be created', async () => {
    await restart(null);
    const before = (await call(client.fetchPartitionMetadata, client, { stream: 'secret', partition: 0 })).metadata!.newestOffset;
    const refused = await refusal(publish('secret', 'NEVER-STORED'));
    expect({ code: refused.code, details: refused.details }).toEqual({ code: grpc.status.INTERNAL, details: 'encryption failed on partition' });
    const asyncCall = client.publishAsync();
    const response = new Promise<api.PublishResponse>((resolve) => asyncCall.on('data', resolve));
    asyncCall.on('error', () => undefined);
    asyncCall.write({ stream: 'secret', value: Buffer.from('NEVER-STORED-ASYNC'), correlationId: 'async-1', expectedOffset: -1n });
    const answer = await response;
    asyncCall.cancel();
    expect({ correlationId: answer.correlationId, error: answer.asyncError }).toEqual({
      correlationId: 'async-1',
      error: { code: api.PublishAsyncErrorCode.ENCRYPTION_FAILED, message: 'encryption failed on partition' },
    });
    expect((await call(client.fetchPartitionMetadata, client, { stream: 'secret', partition: 0 })).metadata!.newestOffset).toBe(before);
    expect(diskBytes().includes('NEVER-STORED')).toBe(false); // nor NEVER-STORED-ASYNC
    const create = await refusal(call(client.createStream, client, { name: 'secret-2', subject: 'secret-2', encryption: { value: true } }));
    expect(create.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(create.details).toBe("Failed on preconditions for stream's encryption handler: invalid AES key size; want 16 or 32, got 0 (LIFTBRIDGE_ENCRYPTION_KEY is not set)");
    expect(await readValues(client, earliest('clear'), 1)).toEqual(['CLEAR-VALUE-0']);
  });

  it('refuses to start with streams.encryption and no usable key, naming the key', async () => {
    const tooShort = 'tooShortKey!';
    await expect(restart(tooShort, { encryption: true })).rejects.toThrow(
      'configuration refused: "streams.encryption" is true but invalid AES key size; want 16 or 32, got 12 (LIFTBRIDGE_ENCRYPTION_KEY is 12 bytes long)',
    );
    server = null;
    await restart(KEY, { encryption: true });
    await call(client.createStream, client, { name: 'by-default', subject: 'by-default' });
    await publish('by-default', 'SEALED-BY-DEFAULT');
    expect(diskBytes().includes('SEALED-BY-DEFAULT')).toBe(false);
    expect(await readValues(client, earliest('by-default'), 1)).toEqual(['SEALED-BY-DEFAULT']);
  });

  it('never shows a master key in logs, errors or metrics', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toContain('liftbridge_messages_refused_total');
    const logs = started.map((s) => JSON.stringify(s.logs.lines)).join('\n');
    expect(logs).toContain('encrypted stream but no usable master key');
    expect(logs).toContain('a value could not be decrypted');
    for (const key of [KEY, OTHER_KEY, 'tooShortKey!']) {
      for (const text of [metrics, logs, details.join('\n')]) {
        expect(text).not.toContain(key);
        expect(text).not.toContain(Buffer.from(key).toString('hex'));
        expect(text).not.toContain(Buffer.from(key).toString('base64'));
      }
    }
  });
});
