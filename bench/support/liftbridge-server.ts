import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHealthClient } from '../../src/adapters/inbound/grpc/health-service-definition';
import { ChildRegistry, ManagedChild } from './children';
import { freePort, pollUntil } from './deadline';

const repoRoot = path.resolve(__dirname, '../..');

/** `groups.consumer.timeout` of every bench server: short, so the member-death case's rounds stay short. */
export const BENCH_GROUP_CONSUMER_TIMEOUT_MS = 3000;
const { liftbridgeNodeFlags } = require('../../scripts/node-flags.js') as { liftbridgeNodeFlags(): string[] };

export interface StartedLiftbridge {
  readonly address: string;
  readonly metricsEnabled: boolean;
  readonly child: ManagedChild;
}

export interface LiftbridgeOptions {
  /** Names the child, its data directory, server id and namespace suffix; default `liftbridge`. */
  readonly label?: string;
  /** `metrics.enabled` of this server; default true (the server's own default). */
  readonly metricsEnabled?: boolean;
  /** Cluster membership: default a single-node cluster (seed) with id and namespace from the label. */
  readonly cluster?: { readonly serverId: string; readonly namespace: string; readonly seed: boolean };
  /** More server flags (e.g. `--config` with TLS settings). */
  readonly extraArgs?: readonly string[];
  /** How the health check reaches a server with TLS (default: plaintext). */
  readonly credentials?: grpc.ChannelCredentials;
  /** More environment variables for the server (e.g. LIFTBRIDGE_HTTP_PORT). */
  readonly env?: Readonly<Record<string, string>>;
  /** `logging.level`; default warn (the bench reads no log lines unless it asks for them). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for SERVING; default 30 s (a server with many partitions takes longer). */
  readonly servingTimeoutMs?: number;
  /** Called right after the spawn, before SERVING is awaited: to time the start-up from the spawn. */
  readonly onSpawned?: (child: ManagedChild, spawnedAtNs: bigint) => void;
}

/**
 * Starts the built server (`node bin/liftbridge.js`) as a single-node cluster on `natsUrl`, with the
 * data directory of its label (fresh, unless a server of that label ran before: a restart) and
 * default durability (fsync before ack), and waits until its health service reports proto.API
 * SERVING. Several can share one nats-server: each gets its own label, data directory, port,
 * server id and namespace. `metrics.enabled` is always set explicitly
 * (LIFTBRIDGE_METRICS_ENABLED), so an inherited environment cannot switch metrics off unnoticed.
 */
export async function startLiftbridge(
  children: ChildRegistry,
  workDir: string,
  natsUrl: string,
  options: LiftbridgeOptions = {},
): Promise<StartedLiftbridge> {
  const label = options.label ?? 'liftbridge';
  const metricsEnabled = options.metricsEnabled ?? true;
  const dataDir = path.join(workDir, label);
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const suffix = label === 'liftbridge' ? '' : label.replace(/[^A-Za-z0-9]/g, '');
  const args = [
    ...serverNodeArgs(),
    path.join(repoRoot, 'bin', 'liftbridge.js'),
    '--data-dir', dataDir,
    '--port', String(port),
    '--host', '127.0.0.1',
    '--nats-servers', natsUrl,
    ...(options.cluster === undefined || options.cluster.seed ? ['--raft-bootstrap-seed'] : []),
    '--id', options.cluster?.serverId ?? `bench${suffix}`,
    '--namespace', options.cluster?.namespace ?? `bench${process.pid}${suffix}`,
    '--level', options.logLevel ?? 'warn',
    ...(options.extraArgs ?? []),
  ];
  // Cursors on (one __cursors partition) for the SetCursor case and the group cursors of the member-death case.
  const env = {
    ...process.env,
    LIFTBRIDGE_METRICS_ENABLED: String(metricsEnabled),
    LIFTBRIDGE_CURSORS_STREAM_PARTITIONS: '1',
    LIFTBRIDGE_GROUPS_CONSUMER_TIMEOUT: `${BENCH_GROUP_CONSUMER_TIMEOUT_MS}ms`,
    ...options.env,
  };
  const spawnedAtNs = process.hrtime.bigint();
  const child = children.spawn(label, process.execPath, args, { cwd: repoRoot, env });
  options.onSpawned?.(child, spawnedAtNs);
  const address = `127.0.0.1:${port}`;
  try {
    await pollUntil(async () => {
      if (!child.running) throw new Error(`${label} exited before serving`);
      return isServing(address, 1_000, options.credentials);
    }, options.servingTimeoutMs ?? 30_000, `${label} on ${address} to report SERVING`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${label} output ---\n${child.logs}`);
  }
  return { address, child, metricsEnabled };
}

/**
 * Node options for every server the bench starts: those of the `liftbridge` executable (its
 * shebang, so the bench runs the server as `npx liftbridge` does), then BENCH_SERVER_NODE_ARGS
 * (split on spaces), e.g. `--cpu-prof --cpu-prof-dir=.tmp/prof`: NODE_OPTIONS refuses --cpu-prof,
 * and the profile is written when the server exits on the bench's SIGTERM.
 */
function serverNodeArgs(): string[] {
  return [...liftbridgeNodeFlags(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0)];
}

/** True when the server's health service answers SERVING for proto.API within `timeoutMs`. */
export function isServing(address: string, timeoutMs = 1_000, credentials = grpc.credentials.createInsecure()): Promise<boolean> {
  const health = createHealthClient(address, credentials);
  return new Promise((resolve) => {
    health.check({ service: 'proto.API' }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      health.close();
      resolve(!error && response?.status === 1);
    });
  });
}
