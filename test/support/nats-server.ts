import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNatsServerBinary } from '../../src/infrastructure/nats/embedded-nats-server';
import { acceptsConnections, freePort, waitFor } from './ports';

/** A real nats-server on a free loopback port, one per test file (nats.js `nst` model). */
export class TestNatsServer {
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

  /** Starts on `options.port` (a restart on the same port) or on a free one. */
  static async start(options: { jetstream?: boolean; port?: number } = {}): Promise<TestNatsServer> {
    const binary = findNatsServerBinary(undefined, process.env);
    const port = options.port ?? (await freePort());
    const args = ['-a', '127.0.0.1', '-p', String(port)];
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

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    if (this.storeDir) fs.rmSync(this.storeDir, { recursive: true, force: true });
  }
}
