import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Logger } from '../../application/ports/logger.port';

export interface EmbeddedNatsSettings {
  /** Path of the nats-server binary; found on PATH when absent. */
  readonly binary?: string;
  readonly host: string;
  readonly port: number;
  /** A nats-server configuration file (`nats.embedded.config`). */
  readonly configFile?: string;
  /** How long to wait for it to accept connections. */
  readonly readyTimeoutMs: number;
  readonly logOutput: boolean;
}

export class EmbeddedNatsError extends Error {}

/** Finds the nats-server binary: explicit path, LIFTBRIDGE_NATS_SERVER_BIN, then PATH. */
export function findNatsServerBinary(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const candidates = [explicit, env.LIFTBRIDGE_NATS_SERVER_BIN].filter((c): c is string => !!c);
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'nats-server'));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  throw new EmbeddedNatsError(
    'embedded NATS needs the nats-server binary: install it (Debian: apt-get install nats-server), ' +
      'set nats.embedded.binary / LIFTBRIDGE_NATS_SERVER_BIN, or configure nats.servers to use an external NATS',
  );
}

/**
 * The embedded NATS server (docs/configuration.md "Embedded NATS") as a child process: started before the broker connects,
 * ready once its port accepts TCP connections, stopped (SIGTERM, then SIGKILL) on shutdown.
 */
export class EmbeddedNatsServer {
  private child: ChildProcess | null = null;

  constructor(
    private readonly settings: EmbeddedNatsSettings,
    private readonly logger: Logger,
  ) {}

  get url(): string {
    return `nats://${this.settings.host}:${this.settings.port}`;
  }

  async start(env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const binary = findNatsServerBinary(this.settings.binary, env);
    const args = this.settings.configFile ? ['-c', this.settings.configFile] : [];
    args.push('-a', this.settings.host, '-p', String(this.settings.port));
    this.logger.info({ binary, address: `${this.settings.host}:${this.settings.port}` }, 'starting embedded NATS server');
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const output: string[] = [];
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (output.length < 200) output.push(text);
      if (this.settings.logOutput) for (const line of text.split('\n')) if (line.trim()) this.logger.info({}, `nats: ${line.trim()}`);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new EmbeddedNatsError(`embedded nats-server exited (code ${code}, signal ${signal}): ${output.join('').trim().slice(-2000)}`)),
      ),
    );
    exited.catch(() => undefined);
    try {
      await Promise.race([this.waitUntilAccepting(), exited]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async waitUntilAccepting(): Promise<void> {
    const deadline = performance.now() + this.settings.readyTimeoutMs;
    for (;;) {
      if (await canConnect(this.settings.host, this.settings.port)) return;
      if (performance.now() > deadline) throw new EmbeddedNatsError(`embedded nats-server did not accept connections within ${this.settings.readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
