import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHealthClient } from '../../src/adapters/inbound/grpc/health-service-definition';
import { ChildRegistry, ManagedChild } from './children';
import { freePort, pollUntil } from './deadline';

const repoRoot = path.resolve(__dirname, '../..');

export interface StartedLiftbridge {
  readonly address: string;
  readonly child: ManagedChild;
}

/**
 * Starts the built server (`node bin/liftbridge.js`) as a single-node cluster on `natsUrl`, with a
 * fresh data directory and default durability (fsync before ack), and waits until its health
 * service reports proto.API SERVING.
 */
export async function startLiftbridge(children: ChildRegistry, workDir: string, natsUrl: string): Promise<StartedLiftbridge> {
  const dataDir = path.join(workDir, 'liftbridge');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const args = [
    path.join(repoRoot, 'bin', 'liftbridge.js'),
    '--data-dir', dataDir,
    '--port', String(port),
    '--host', '127.0.0.1',
    '--nats-servers', natsUrl,
    '--raft-bootstrap-seed',
    '--id', 'bench',
    '--namespace', `bench${process.pid}`,
    '--level', 'warn',
  ];
  const child = children.spawn('liftbridge', process.execPath, args, { cwd: repoRoot });
  const address = `127.0.0.1:${port}`;
  try {
    await pollUntil(async () => {
      if (!child.running) throw new Error('liftbridge exited before serving');
      return isServing(address);
    }, 30_000, `liftbridge on ${address} to report SERVING`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- liftbridge output ---\n${child.logs}`);
  }
  return { address, child };
}

/** True when the server's health service answers SERVING for proto.API within `timeoutMs`. */
export function isServing(address: string, timeoutMs = 1_000): Promise<boolean> {
  const health = createHealthClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    health.check({ service: 'proto.API' }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      health.close();
      resolve(!error && response?.status === 1);
    });
  });
}
