import { connect, type NatsConnection } from 'nats';
import { NatsClusterChannel } from '../../../src/adapters/outbound/nats/nats-cluster-channel';
import { ControllerUnreachableError, ForwardedAnswer } from '../../../src/application/ports/cluster-channel.port';
import { Logger } from '../../../src/application/ports/logger.port';
import { TestNatsServer } from '../../support/nats-server';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/**
 * The controller's command channel on a real nats-server, when the controller stops serving it
 * (docs/cluster.md "Controlled shutdown"): a forwarded command must never wait out its whole
 * timeout for a controller that is gone. Requests already on their way when it stops are still
 * answered (the serving subscription drains), and later ones find no responder at once.
 */
describe('NatsClusterChannel: a controller that stops serving commands', () => {
  let nats: TestNatsServer;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    nats = await TestNatsServer.start();
  });
  afterAll(async () => {
    for (const nc of connections) await nc.close();
    await nats.stop();
  });

  it('answers or refuses at once every command forwarded around the moment it stops', async () => {
    const open = async (): Promise<NatsConnection> => {
      const nc = await connect({ servers: nats.url });
      connections.push(nc);
      return nc;
    };
    const controller = new NatsClusterChannel(await open(), 'ns', silent);
    const forwarder = new NatsClusterChannel(await open(), 'ns', silent);
    let serving = true;
    const served = await controller.serveCommands(async (): Promise<ForwardedAnswer> => (serving ? { kind: 'applied', events: [], index: 1 } : { kind: 'unavailable', reason: 'not the controller' }));
    const TIMEOUT_MS = 4000;
    const outcomes: { kind: string; ms: number }[] = [];
    const forward = async (): Promise<void> => {
      const startedAt = Date.now();
      const kind = await forwarder.forward({ type: 'DeleteStream', data: { name: 's' } }, TIMEOUT_MS).then(
        (answer) => answer.kind,
        (error: unknown) => (error instanceof ControllerUnreachableError ? 'unreachable' : `error: ${String(error)}`),
      );
      outcomes.push({ kind, ms: Date.now() - startedAt });
    };
    // A steady stream of forwards, several in flight at any time, while the controller stops serving.
    const all: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      all.push(forward());
      if (i === 200) {
        serving = false;
        served.cancel();
      }
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    expect(outcomes).toHaveLength(400);
    expect(outcomes.filter((o) => !['applied', 'unavailable', 'unreachable'].includes(o.kind))).toEqual([]);
    expect(outcomes.filter((o) => o.kind === 'unreachable').length).toBeGreaterThan(0); // the later ones found no responder
    // None waited for its timeout: an answer or "no responders" came back within a second.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(1000);
    await controller.close();
    await forwarder.close();
  });
});
