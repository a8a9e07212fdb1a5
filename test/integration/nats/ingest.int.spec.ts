import { connect, NatsConnection } from 'nats';
import * as api from '../../../src/protocol/api-types';
import { decodeAckEnvelope } from '../../../src/protocol/ack-codec';
import { encodePublishEnvelope } from '../../../src/protocol/publish-message-codec';
import { ApiClient, call, connectClient, subscribe } from '../../support/api-calls';
import { TestNatsServer } from '../../support/nats-server';
import { waitFor } from '../../support/wait-for';
import { StartedTestBroker, startTestBroker, testBrokerConfig } from '../../support/test-broker';

let natsServer: TestNatsServer;
let server: StartedTestBroker;
let client: ApiClient;
let nc: NatsConnection;
let counter = 0;
const unique = (prefix: string): string => `${prefix}-${++counter}`;

beforeAll(async () => {
  natsServer = await TestNatsServer.start();
  server = await startTestBroker(testBrokerConfig(natsServer.url, { clustering: { replicationMaxBytes: 4096 } }));
  client = connectClient(server.address);
  nc = await connect({ servers: natsServer.url });
});

afterAll(async () => {
  await nc?.close();
  client?.close();
  await server?.destroy();
  await natsServer?.stop();
});

/** Reads a partition from the beginning until `count` messages arrived. */
async function readAll(stream: string, count: number, partition = 0): Promise<api.Message[]> {
  const sub = subscribe(client, { stream, partition, startPosition: api.StartPosition.EARLIEST });
  const messages = await sub.waitFor(count);
  sub.cancel();
  return messages.slice(0, count);
}

/** Waits for acks on an inbox: resolves with the decoded acks once `count` arrived. */
function collectAcks(inbox: string, count: number): Promise<api.Ack[]> {
  const acks: api.Ack[] = [];
  return new Promise((resolve) => {
    const sub = nc.subscribe(inbox, {
      callback: (_e, msg) => {
        acks.push(decodeAckEnvelope(msg.data));
        if (acks.length === count) {
          sub.unsubscribe();
          resolve(acks);
        }
      },
    });
  });
}

describe('plain NATS publishers', () => {
  it('stores a message without an envelope as its value, with the reply subject in headers', async () => {
    const name = unique('raw');
    await call(client.createStream, client, { name, subject: `${name}.in` });
    nc.publish(`${name}.in`, Buffer.from('plain bytes'), { reply: 'some.reply' });
    const [message] = await readAll(name, 1);
    expect(message!.value.toString()).toBe('plain bytes');
    expect(message!.key.length).toBe(0);
    expect(message!.subject).toBe(`${name}.in`);
    expect(message!.replySubject).toBe('some.reply');
    expect(message!.headers.reply!.toString()).toBe('some.reply');
  });

  it('acks an enveloped message on its AckInbox with the correlation id and offset', async () => {
    const name = unique('env');
    await call(client.createStream, client, { name, subject: `${name}.in` });
    const inbox = `${name}.acks`;
    const acks = collectAcks(inbox, 3);
    await nc.flush();
    for (let i = 0; i < 3; i++) {
      nc.publish(`${name}.in`, encodePublishEnvelope({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), ackInbox: inbox, correlationId: `c${i}`, expectedOffset: -1 }));
    }
    const received = await acks;
    expect(received.map((a) => [a.correlationId, a.offset, a.stream, a.msgSubject, a.ackError])).toEqual([
      ['c0', 0n, name, `${name}.in`, api.AckError.OK],
      ['c1', 1n, name, `${name}.in`, api.AckError.OK],
      ['c2', 2n, name, `${name}.in`, api.AckError.OK],
    ]);
    expect(received[0]!.commitTimestamp).toBeGreaterThanOrEqual(received[0]!.receptionTimestamp);
    const messages = await readAll(name, 3);
    expect(messages.map((m) => m.key.toString())).toEqual(['k0', 'k1', 'k2']);
  });

  it('nacks a message above replication.max.bytes with TOO_LARGE and does not store it', async () => {
    const name = unique('toolarge');
    await call(client.createStream, client, { name, subject: `${name}.in` });
    const inbox = `${name}.acks`;
    const acks = collectAcks(inbox, 2);
    await nc.flush();
    nc.publish(`${name}.in`, encodePublishEnvelope({ value: Buffer.alloc(5000), ackInbox: inbox, correlationId: 'big', expectedOffset: -1 }));
    nc.publish(`${name}.in`, encodePublishEnvelope({ value: Buffer.from('small'), ackInbox: inbox, correlationId: 'small', expectedOffset: -1 }));
    const received = await acks;
    expect(received.find((a) => a.correlationId === 'big')!.ackError).toBe(api.AckError.TOO_LARGE);
    expect(received.find((a) => a.correlationId === 'small')!.offset).toBe(0n);
    const [only] = await readAll(name, 1);
    expect(only!.value.toString()).toBe('small');
  });

  it('drops malformed envelopes without crashing and keeps serving', async () => {
    const name = unique('malformed');
    await call(client.createStream, client, { name, subject: `${name}.in` });
    const magic = Buffer.from([0xb9, 0x0e, 0x43, 0xb4]);
    const garbage = [
      Buffer.concat([magic, Buffer.from([1, 8, 0, 0])]), // unknown version
      Buffer.concat([magic, Buffer.from([0, 200, 0, 0])]), // header length past the end
      Buffer.concat([magic, Buffer.from([0, 8, 1, 0])]), // CRC flag without CRC
      Buffer.concat([magic, Buffer.from([0, 8, 0, 0]), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x7f])]), // length prefix of 2 GB
      Buffer.concat([magic, Buffer.from([0, 8, 0, 1]), Buffer.from('not an ack')]), // wrong message type
      Buffer.concat([magic, Buffer.from([0, 8, 0])]), // truncated header
    ];
    for (const g of garbage) nc.publish(`${name}.in`, g);
    nc.publish(`${name}.in`, Buffer.from('after the garbage'));
    const [message] = await readAll(name, 1);
    expect(message!.value.toString()).toBe('after the garbage');
    expect(message!.offset).toBe(0n);
  });
});

describe('subjects, fan-out and groups', () => {
  it('a wildcard stream records every matching subject', async () => {
    const name = unique('wild');
    await call(client.createStream, client, { name, subject: `${name}.*` });
    nc.publish(`${name}.a`, Buffer.from('A'));
    nc.publish(`${name}.b`, Buffer.from('B'));
    nc.publish(`${name}.c.d`, Buffer.from('not matched'));
    nc.publish(`${name}.e`, Buffer.from('E'));
    const messages = await readAll(name, 3);
    expect(messages.map((m) => [m.subject, m.value.toString()])).toEqual([
      [`${name}.a`, 'A'],
      [`${name}.b`, 'B'],
      [`${name}.e`, 'E'],
    ]);
  });

  it('several streams on one subject each get every message', async () => {
    const subject = unique('shared');
    const first = unique('fan1');
    const second = unique('fan2');
    await call(client.createStream, client, { name: first, subject });
    await call(client.createStream, client, { name: second, subject });
    for (let i = 0; i < 5; i++) nc.publish(subject, Buffer.from(`m${i}`));
    const [a, b] = await Promise.all([readAll(first, 5), readAll(second, 5)]);
    expect(a.map((m) => m.value.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(b.map((m) => m.value.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('streams in one load-balance group share the subject: each message lands in exactly one', async () => {
    const subject = unique('grouped');
    const group = unique('group');
    const names = [unique('lb1'), unique('lb2')];
    for (const name of names) await call(client.createStream, client, { name, subject, group });
    const total = 200;
    for (let i = 0; i < total; i++) nc.publish(subject, Buffer.from(String(i)));
    await nc.flush();
    const counts = async (): Promise<number[]> => {
      const metadata = await call(client.fetchMetadata, client, { streams: names });
      return metadata.streamMetadata.map((s) => Number(s.partitions[0]!.newestOffset) + 1);
    };
    const seen = await waitFor(async () => {
      const now = await counts();
      return now[0]! + now[1]! >= total && now;
    }, 10_000, `all ${total} messages to be stored`);
    expect(seen[0]! + seen[1]!).toBe(total);
    const values = [...(await readAll(names[0]!, seen[0]!)), ...(await readAll(names[1]!, seen[1]!))].map((m) => Number(m.value.toString()));
    expect(values.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});
