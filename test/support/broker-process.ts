import * as grpc from '@grpc/grpc-js';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createHealthClient } from '../../src/adapters/inbound/grpc/health-service-definition';
import { waitFor } from './ports';

const { liftbridgeNodeFlags } = require('../../scripts/node-flags.js') as { liftbridgeNodeFlags(): string[] };
const root = path.resolve(__dirname, '../..');

export interface SpawnOptions {
  /** RLIMIT_NOFILE of the server process (`ulimit -n`). */
  readonly descriptorsMax?: number;
  /** How the health check reaches a server with TLS (default: plaintext). */
  readonly credentials?: grpc.ChannelCredentials;
}

/** The built `liftbridge` executable as a child process (the integration tests' real server). */
export class BrokerProcess {
  private output = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly credentials: grpc.ChannelCredentials,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get logs(): string {
    return this.output;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Spawns `bin/liftbridge.js` with `args`; does not wait for it to serve. `descriptorsMax`: run it
   * under that RLIMIT_NOFILE (soft and hard, `prlimit`, which execs it: the pid is the server's).
   */
  static spawn(args: readonly string[], port: number, env: NodeJS.ProcessEnv = process.env, options: SpawnOptions = {}): BrokerProcess {
    // The executable's own node flags (its shebang), as `npx liftbridge` would run it.
    const command = [process.execPath, ...liftbridgeNodeFlags(), path.join(root, 'bin', 'liftbridge.js'), ...args];
    const limited = options.descriptorsMax === undefined ? command : ['prlimit', `--nofile=${options.descriptorsMax}:${options.descriptorsMax}`, '--', ...command];
    const child = spawn(limited[0]!, limited.slice(1), {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BrokerProcess(child, port, options.credentials ?? grpc.credentials.createInsecure());
  }

  /** Spawns and waits until the health service reports proto.API SERVING. */
  static async start(args: readonly string[], port: number, env: NodeJS.ProcessEnv = process.env, options: SpawnOptions = {}): Promise<BrokerProcess> {
    const broker = BrokerProcess.spawn(args, port, env, options);
    try {
      await broker.waitServing(20_000);
    } catch (error) {
      await broker.kill();
      throw new Error(`${(error as Error).message}\n--- broker output ---\n${broker.logs}`);
    }
    return broker;
  }

  async waitServing(timeoutMs: number): Promise<void> {
    let exited = false;
    void this.exit.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`broker exited before serving`);
        return this.isServing();
      },
      timeoutMs,
      `broker on port ${this.port} to serve`,
    );
  }

  private isServing(): Promise<boolean> {
    const health = createHealthClient(this.address, this.credentials);
    return new Promise((resolve) => {
      health.check({ service: 'proto.API' }, { deadline: Date.now() + 500 }, (error, response) => {
        health.close();
        resolve(!error && response?.status === 1);
      });
    });
  }

  /** Sends `signal` and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit;
  }

  /** kill -9. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.stop('SIGKILL');
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }
}
