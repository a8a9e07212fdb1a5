import * as net from 'node:net';

/**
 * How the proxy treats bytes (docs/reliability.md "How it is built", the fault proxy):
 * - pass: forward as they come;
 * - delay: forward each chunk `ms` later, in order;
 * - throttle: forward at most `bytesPerSecond` per direction of each connection (backpressure, no loss);
 * - refuse: reset every new connection at once (existing ones keep their mode of before);
 * - blackhole: keep every socket open and discard every byte, both ways (a half-open link: the
 *   peers only notice through their own pings);
 * - blackhole-up / blackhole-down: the same in one direction (up = client → server).
 * A direction that discarded a byte stays dead for the life of its connection, whatever the mode
 * later: the bytes after a hole mean nothing to the peer, as after a real half-open link. Healing
 * (mode pass) helps new connections; the client finds out about the dead one through its PINGs.
 */
export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'throttle'; readonly bytesPerSecond: number }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'blackhole-up' }
  | { readonly kind: 'blackhole-down' };

export const PASS: ProxyMode = { kind: 'pass' };

type Direction = 'up' | 'down';

/** Chunks waiting for their release time; the source pauses while too much is queued. */
const QUEUE_PAUSE_BYTES = 1024 * 1024;

class Pipe {
  private dead = false;
  private queue: { chunk: Buffer; releaseAtMs: number }[] = [];
  queuedBytes = 0;
  private lastReleaseAtMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly direction: Direction,
    private readonly mode: () => ProxyMode,
    private readonly counters: { forwarded: number; discarded: number },
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    const mode = this.mode();
    if (this.dead || mode.kind === 'blackhole' || mode.kind === `blackhole-${this.direction}`) {
      this.dead = true;
      this.counters.discarded += chunk.length;
      return;
    }
    const now = Date.now();
    let releaseAtMs = now;
    if (mode.kind === 'delay') releaseAtMs = now + mode.ms;
    releaseAtMs = Math.max(releaseAtMs, this.lastReleaseAtMs);
    if (mode.kind === 'throttle') releaseAtMs += (chunk.length * 1000) / mode.bytesPerSecond;
    this.lastReleaseAtMs = releaseAtMs;
    if (releaseAtMs <= now && this.queue.length === 0) return this.forward(chunk);
    this.queue.push({ chunk, releaseAtMs });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUE_PAUSE_BYTES) this.from.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, this.queue[0]!.releaseAtMs - Date.now()));
  }

  /** Sends what is due; everything queued once the mode is pass again (a healed link delivers its backlog at once). */
  release(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const now = this.mode().kind === 'pass' ? Number.POSITIVE_INFINITY : Date.now();
    if (now === Number.POSITIVE_INFINITY) this.lastReleaseAtMs = 0;
    while (this.queue.length > 0 && this.queue[0]!.releaseAtMs <= now) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      if (this.dead) this.counters.discarded += chunk.length;
      else this.forward(chunk);
    }
    if (this.queuedBytes <= QUEUE_PAUSE_BYTES) this.from.resume();
    this.schedule();
  }

  private forward(chunk: Buffer): void {
    this.counters.forwarded += chunk.length;
    if (!this.to.destroyed) this.to.write(chunk);
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

class ProxiedConnection {
  readonly pipes: Pipe[];

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    mode: () => ProxyMode,
    counters: { forwarded: number; discarded: number },
    private readonly onClosed: (c: ProxiedConnection) => void,
  ) {
    this.pipes = [new Pipe(client, upstream, 'up', mode, counters), new Pipe(upstream, client, 'down', mode, counters)];
    // Either side closing closes the other, as a real link would carry the FIN or RST.
    const close = (): void => this.reset();
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  }

  /** Both sockets closed with a TCP RST. */
  reset(): void {
    for (const p of this.pipes) p.close();
    for (const s of [this.client, this.upstream]) {
      if (s.destroyed) continue;
      // resetAndDestroy needs a connected socket that has not started closing: libuv refuses a
      // reset after a shutdown (the socket ends itself when its peer sent FIN), and Node 20 then
      // leaks the handle, which keeps the process from exiting (it spins in its exit cleanup).
      if (s.connecting || s.writableEnded || s.readableEnded) s.destroy();
      else s.resetAndDestroy();
    }
    this.onClosed(this);
  }
}

/**
 * A TCP proxy on 127.0.0.1 in the test process, between one broker and nats-server, whose mode the
 * test switches at any time (docs/reliability.md "How it is built"). One per broker, so a fault on one
 * broker's link leaves the others' untouched.
 */
export class FaultProxy {
  private current: ProxyMode = PASS;
  private readonly connections = new Set<ProxiedConnection>();
  private readonly counters = { forwarded: 0, discarded: 0, accepted: 0, refused: 0 };

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly upstreamPort: number,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on a free loopback port and forwards to 127.0.0.1:`upstreamPort`. */
  static async start(upstreamPort: number): Promise<FaultProxy> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return new FaultProxy(server, (server.address() as net.AddressInfo).port, upstreamPort);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  /** Bytes forwarded and discarded so far, connections accepted and refused. */
  get stats(): Readonly<typeof this.counters> & { readonly open: number; readonly queued: number } {
    let queued = 0;
    for (const c of this.connections) for (const p of c.pipes) queued += p.queuedBytes;
    return { ...this.counters, open: this.connections.size, queued };
  }

  setMode(mode: ProxyMode): void {
    this.current = mode;
    for (const c of this.connections) for (const p of c.pipes) p.release();
  }

  /** Resets every open connection (TCP RST both ways); the mode stays. */
  resetAll(): void {
    for (const c of [...this.connections]) c.reset();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    if (this.current.kind === 'refuse') {
      this.counters.refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.counters.accepted++;
    const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort, noDelay: true });
    const connection = new ProxiedConnection(client, upstream, () => this.current, this.counters, (c) => this.connections.delete(c));
    this.connections.add(connection);
  }
}
