import { NatsConnection } from 'nats';
import { NatsMessageTransport } from '../../../../src/adapters/outbound/nats/nats-message-transport';
import { Logger } from '../../../../src/application/ports/logger.port';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/**
 * A connection that records SUBs and PINGs (flushes) in order, and answers each PING when told:
 * a flush guarantees the server has every SUB sent before its PING.
 */
function recordingConnection(): { nc: NatsConnection; wire: string[]; pong(): void } {
  const wire: string[] = [];
  const pending: (() => void)[] = [];
  const nc = {
    subscribe: (subject: string) => {
      wire.push(`SUB ${subject}`);
      return { isClosed: () => false, unsubscribe: () => undefined };
    },
    flush: () =>
      new Promise<void>((resolve) => {
        wire.push('PING');
        pending.push(resolve);
      }),
  } as unknown as NatsConnection;
  return { nc, wire, pong: () => pending.shift()!() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('NatsMessageTransport.listen', () => {
  it('shares flushes between listens, and never resolves one before a PING sent after its SUB was answered', async () => {
    const { nc, wire, pong } = recordingConnection();
    const transport = new NatsMessageTransport(nc, nc, 'ns', silent);
    const listening: string[] = [];
    const listen = (subject: string) => transport.listen(subject, '', () => undefined).then(() => listening.push(subject));
    const first = listen('p.0');
    const more = ['p.1', 'p.2', 'p.3', 'p.4'].map(listen);
    expect(wire).toEqual(['SUB p.0', 'PING', 'SUB p.1', 'SUB p.2', 'SUB p.3', 'SUB p.4']);
    pong();
    await first;
    await turn();
    expect(listening).toEqual(['p.0']); // the first PING left before p.1-p.4 were subscribed
    expect(wire.slice(6)).toEqual(['PING']); // one more flush for the four of them
    pong();
    await Promise.all(more);
    expect(listening).toEqual(['p.0', 'p.1', 'p.2', 'p.3', 'p.4']);
    const later = listen('p.5'); // idle again: its own flush at once
    expect(wire.slice(7)).toEqual(['SUB p.5', 'PING']);
    pong();
    await later;
  });
});
