import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findNatsServerBinary } from '../../src/infrastructure/nats/embedded-nats-server';
import { ChildRegistry } from './children';
import { canConnect, freePort, pollUntil } from './deadline';

export interface StartedNatsServer {
  readonly url: string;
  readonly version: string;
  /** Process id, for CPU accounting. */
  readonly pid: number | undefined;
}

/** Starts nats-server with JetStream (store under `workDir`) on a free loopback port. */
export async function startNatsServer(children: ChildRegistry, workDir: string): Promise<StartedNatsServer> {
  const binary = findNatsServerBinary(undefined, process.env);
  const storeDir = path.join(workDir, 'jetstream');
  fs.mkdirSync(storeDir, { recursive: true });
  const port = await freePort();
  const child = children.spawn('nats-server', binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir]);
  try {
    await pollUntil(async () => {
      if (!child.running) throw new Error(`nats-server exited before accepting connections`);
      return canConnect(port);
    }, 15_000, `nats-server on port ${port}`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- nats-server output ---\n${child.logs}`);
  }
  return { url: `nats://127.0.0.1:${port}`, version: natsServerVersion(binary), pid: child.process.pid };
}

function natsServerVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 5_000 });
  return (result.stdout || result.stderr || 'unknown').trim();
}
