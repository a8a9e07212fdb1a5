import { ChildProcess, spawn } from 'node:child_process';
import { connect, ConnectionOptions, NatsConnection } from 'nats';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNatsServerBinary } from '../../src/infrastructure/nats/embedded-nats-server';
import { acceptsConnections, freePort, waitFor } from './ports';

/** One client connection in nats-server's /connz. */
export interface MonitoredConnection {
  readonly name?: string;
  readonly authorized_user?: string;
  readonly tls_version?: string;
}

/** A real nats-server on a free loopback port, one per test file (nats.js `nst` model). */
export class TestNatsServer {
  private readonly clients: NatsConnection[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly storeDir: string | null,
    /** The HTTP monitoring port (`-m`), when asked for. */
    readonly monitorPort: number | null = null,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * `port`: a given port (a restart on the same port, or one a broker already tries to reach)
   * instead of a free one; `args`: extra nats-server arguments (e.g. `--user u --pass p`).
   */
  static async start(
    options: {
      jetstream?: boolean;
      port?: number;
      args?: readonly string[];
      /** A nats-server configuration file (`-c`); the port and host given here override its own. */
      configFile?: string;
      /** Serve /connz and friends on a free port (`monitorPort`). */
      monitor?: boolean;
    } = {},
  ): Promise<TestNatsServer> {
    const binary = findNatsServerBinary(undefined, process.env);
    const port = options.port ?? (await freePort());
    const args = [...(options.configFile ? ['-c', options.configFile] : []), '-a', '127.0.0.1', '-p', String(port), ...(options.args ?? [])];
    const monitorPort = options.monitor ? await freePort() : null;
    if (monitorPort !== null) args.push('-m', String(monitorPort));
    let storeDir: string | null = null;
    if (options.jetstream) {
      storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-js-'));
      args.push('-js', '-sd', storeDir);
    }
    const child = spawn(binary, args, { stdio: 'ignore' });
    const server = new TestNatsServer(child, port, storeDir, monitorPort);
    try {
      await waitFor(() => acceptsConnections(port), 10_000, `nats-server on port ${port}`);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** A client connection (plain unless `options` say otherwise), closed by `stop()`. */
  async connect(options: ConnectionOptions = {}): Promise<NatsConnection> {
    const nc = await connect({ servers: this.url, ...options });
    this.clients.push(nc);
    return nc;
  }

  /** The server's client connections as its monitoring endpoint reports them (`/connz?auth=true`). */
  async connections(): Promise<readonly MonitoredConnection[]> {
    if (this.monitorPort === null) throw new Error('started without monitor: true');
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?auth=true&limit=4096`);
    return ((await res.json()) as { connections?: MonitoredConnection[] }).connections ?? [];
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((nc) => nc.close()));
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    if (this.storeDir) fs.rmSync(this.storeDir, { recursive: true, force: true });
  }
}
