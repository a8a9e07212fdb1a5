import * as net from 'node:net';
import { FaultProxy, PASS } from '../../support/faults/fault-proxy';
import { waitFor } from '../../support/wait-for';

/** The fault proxy of the fault-injection suite (docs/reliability.md), against a loopback echo server. */
let echo: net.Server;
let proxy: FaultProxy;
const sockets: net.Socket[] = [];

beforeEach(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await FaultProxy.start((echo.address() as net.AddressInfo).port);
});

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

interface Client {
  readonly socket: net.Socket;
  received(): string;
  closed: Promise<string>;
}

async function connect(): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
  sockets.push(socket);
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString()));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    socket.on('close', () => resolve('closed'));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

/** Sockets run on real time: poll briefly for what the echo server sent back. */
const until = (check: () => boolean, ms = 2000): Promise<void> => waitFor(check, ms, 'the proxied bytes', 5);

/** Resolves after `ms` to observe that nothing arrived in that time. */
const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('FaultProxy', () => {
  it('passes bytes both ways', async () => {
    const c = await connect();
    c.socket.write('hello');
    await until(() => c.received() === 'hello');
  });

  it('delays every chunk by the given time, in order', async () => {
    proxy.setMode({ kind: 'delay', ms: 150 });
    const c = await connect();
    const sentAt = Date.now();
    c.socket.write('a');
    c.socket.write('b');
    await until(() => c.received() === 'ab');
    // 150 ms up and 150 ms down.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(290);
  });

  it('throttles to the given rate without losing bytes', async () => {
    proxy.setMode({ kind: 'throttle', bytesPerSecond: 20_000 });
    const c = await connect();
    const sentAt = Date.now();
    c.socket.write('x'.repeat(5000));
    await until(() => c.received().length === 5000, 5000);
    // 5 KB at 20 KB/s each way: at least 0.25 s up and 0.25 s down.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(490);
  });

  it('delivers a throttled backlog at once when the link is healed', async () => {
    proxy.setMode({ kind: 'throttle', bytesPerSecond: 1000 });
    const c = await connect();
    c.socket.write('y'.repeat(5000)); // 5 s at this rate
    await until(() => proxy.stats.queued > 0);
    const healedAt = Date.now();
    proxy.setMode(PASS);
    await until(() => c.received().length === 5000, 2000);
    expect(Date.now() - healedAt).toBeLessThan(1000);
  });

  it('refuses new connections with a reset and keeps the open ones', async () => {
    const open = await connect();
    proxy.setMode({ kind: 'refuse' });
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    sockets.push(socket);
    const outcome = await new Promise<string>((resolve) => {
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      socket.on('close', () => resolve('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(outcome);
    expect(proxy.stats.refused).toBe(1);
    open.socket.write('still');
    await until(() => open.received() === 'still');
  });

  it('resets every open connection', async () => {
    const c = await connect();
    proxy.resetAll();
    expect(['ECONNRESET', 'closed']).toContain(await c.closed);
    expect(proxy.stats.open).toBe(0);
  });

  it('blackholes: sockets stay open, nothing arrives, and the dead connection stays dead after healing', async () => {
    const c = await connect();
    proxy.setMode({ kind: 'blackhole' });
    c.socket.write('lost');
    await quiet(200);
    expect(c.received()).toBe('');
    expect(c.socket.destroyed).toBe(false);
    proxy.setMode(PASS);
    c.socket.write('after');
    await quiet(200);
    expect(c.received()).toBe('');
    // A new connection passes.
    const fresh = await connect();
    fresh.socket.write('new');
    await until(() => fresh.received() === 'new');
    expect(proxy.stats.discarded).toBeGreaterThanOrEqual('lostafter'.length);
  });

  it('blackholes one direction only', async () => {
    proxy.setMode({ kind: 'blackhole-down' });
    const c = await connect();
    c.socket.write('ping');
    await quiet(200);
    // The bytes went up (the echo server got them) but the echo never came down.
    expect(c.received()).toBe('');
    expect(proxy.stats.forwarded).toBe(4);
    expect(proxy.stats.discarded).toBe(4);

    proxy.setMode({ kind: 'blackhole-up' });
    const d = await connect();
    d.socket.write('pong');
    await quiet(200);
    expect(d.received()).toBe('');
    expect(proxy.stats.forwarded).toBe(4);
  });
});
