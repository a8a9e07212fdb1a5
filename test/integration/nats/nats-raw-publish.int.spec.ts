import { connect, type NatsConnection } from 'nats';
import { rawPublisher } from '../../../src/adapters/outbound/nats/nats-raw-publish';
import { TestNatsServer } from '../../support/nats-server';

const pub = (subject: string, payload: string): string => `PUB ${subject} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`;

describe('rawPublisher (ready-made PUB commands through nats.js, against the pinned version and a real nats-server)', () => {
  let nats: TestNatsServer;
  let publisher: NatsConnection;
  let subscriber: NatsConnection;

  beforeAll(async () => {
    nats = await TestNatsServer.start();
    publisher = await connect({ servers: nats.url });
    subscriber = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await subscriber.close();
    if (!publisher.isClosed()) await publisher.close();
    await nats.stop();
  });

  it('delivers every message of one buffer, in order, interleaved correctly with ordinary publishes, and counts them', async () => {
    const received: string[] = [];
    const all = new Promise<void>((resolve) => {
      subscriber.subscribe('raw.>', { callback: (_e, m) => { received.push(`${m.subject}=${m.string()}`); if (received.length === 4) resolve(); } });
    });
    await subscriber.flush();
    const raw = rawPublisher(publisher)!;
    expect(raw).not.toBeNull();
    const before = publisher.stats();
    publisher.publish('raw.first', Buffer.from('0'));
    expect(raw.send(Buffer.from(pub('raw.a', 'one') + pub('raw.b', '') + pub('raw.a', 'thrée')), 3, 1 + Buffer.byteLength('thrée') + 2)).toBe(true);
    await publisher.flush();
    await all;
    expect(received).toEqual(['raw.first=0', 'raw.a=one', 'raw.b=', 'raw.a=thrée']);
    const after = publisher.stats();
    expect(after.outMsgs - before.outMsgs).toBe(4);
    expect(after.outBytes - before.outBytes).toBe(1 + 3 + 0 + Buffer.byteLength('thrée'));
  });

  it('refuses (queues nothing) once the connection is closed', async () => {
    const raw = rawPublisher(publisher)!;
    await publisher.close();
    expect(raw.send(Buffer.from(pub('raw.late', 'x')), 1, 1)).toBe(false);
  });

  it('returns null when nats.js is not shaped as expected', () => {
    expect(rawPublisher({} as NatsConnection)).toBeNull();
    expect(rawPublisher({ protocol: { sendCommand: () => undefined } } as unknown as NatsConnection)).toBeNull();
  });
});
