import { ChildProcess, spawn } from 'node:child_process';
import { connect, NatsConnection } from 'nats';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNatsServerBinary } from '../../src/infrastructure/nats/embedded-nats-server';
import { acceptsConnections, freePort, waitFor } from './ports';

/** A real nats-server on a free loopback port, one per test file (nats.js `nst` model). */
export class TestNatsServer {
  private readonly clients: NatsConnection[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly storeDir: string | null,
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
  static async start(options: { jetstream?: boolean; port?: number; args?: readonly string[] } = {}): Promise<TestNatsServer> {
    const binary = findNatsServerBinary(undefined, process.env);
    const port = options.port ?? (await freePort());
    const args = ['-a', '127.0.0.1', '-p', String(port), ...(options.args ?? [])];
    let storeDir: string | null = null;
    if (options.jetstream) {
      storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-js-'));
      args.push('-js', '-sd', storeDir);
    }
    const child = spawn(binary, args, { stdio: 'ignore' });
    const server = new TestNatsServer(child, port, storeDir);
    try {
      await waitFor(() => acceptsConnections(port), 10_000, `nats-server on port ${port}`);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** A plain client connection, closed by `stop()`. */
  async connect(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.url });
    this.clients.push(nc);
    return nc;
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
