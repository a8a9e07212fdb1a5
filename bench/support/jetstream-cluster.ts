import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageType, type NatsConnection } from 'nats';
import { findNatsServerBinary } from '../../src/infrastructure/nats/embedded-nats-server';
import type { JetStreamClusterTarget } from '../types';
import { ChildRegistry, ManagedChild } from './children';
import { canConnect, freePort, pollUntil, withDeadline } from './deadline';
import { closeNats, connectNats } from './nats-connections';

const NODE_COUNT = 3;
const CLUSTER_NAME = 'benchjs';
const READY_STREAM = 'BENCH_JS_CLUSTER_READY';

export interface StartedJetStreamCluster extends JetStreamClusterTarget {
  readonly children: readonly ManagedChild[];
}

/**
 * Starts three nats-servers with JetStream (each with its own store under `workDir`) routed into
 * one cluster on free loopback ports, and waits until JetStream can place a stream with three
 * replicas: a meta leader is elected and every peer has joined. The probe stream is deleted again.
 */
export async function startJetStreamCluster(children: ChildRegistry, workDir: string): Promise<StartedJetStreamCluster> {
  const binary = findNatsServerBinary(undefined, process.env);
  const nodes: { name: string; port: number; clusterPort: number }[] = [];
  for (let i = 1; i <= NODE_COUNT; i++) nodes.push({ name: `n${i}`, port: await freePort(), clusterPort: await freePort() });
  const started: ManagedChild[] = [];
  for (const node of nodes) {
    const storeDir = path.join(workDir, `jetstream-cluster-${node.name}`);
    fs.mkdirSync(storeDir, { recursive: true });
    const routes = nodes.filter((other) => other !== node).map((other) => `nats://127.0.0.1:${other.clusterPort}`);
    const args = [
      '-js', '-sd', storeDir,
      '--cluster_name', CLUSTER_NAME,
      '--cluster', `nats://127.0.0.1:${node.clusterPort}`,
      '--routes', routes.join(','),
      '-p', String(node.port),
      '-a', '127.0.0.1',
      '--server_name', node.name,
    ];
    started.push(children.spawn(`nats-server-js-${node.name}`, binary, args));
  }
  const logs = (): string => started.map((c) => `--- ${c.name} output ---\n${c.logs}`).join('\n');
  try {
    for (const [i, node] of nodes.entries()) {
      await pollUntil(async () => {
        if (!started[i]!.running) throw new Error(`${started[i]!.name} exited before accepting connections`);
        return canConnect(node.port);
      }, 15_000, `JetStream cluster node ${node.name} on port ${node.port}`);
    }
    await waitForReplicatedJetStream(`nats://127.0.0.1:${nodes[0]!.port}`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${logs()}`);
  }
  return { servers: nodes.map((n) => ({ name: n.name, url: `nats://127.0.0.1:${n.port}` })), children: started };
}

/** Polls until an R3 file stream can be created (then deletes it); the last refusal is in the timeout message. */
async function waitForReplicatedJetStream(url: string): Promise<void> {
  let nc: NatsConnection | undefined;
  let lastError = 'no attempt yet';
  try {
    nc = await connectNats(url, 'bench-js-cluster-probe');
    const conn = nc;
    await pollUntil(
      async () => {
        try {
          const jsm = await withDeadline(conn.jetstreamManager(), 5_000, 'JetStream manager');
          await withDeadline(
            jsm.streams.add({ name: READY_STREAM, subjects: ['bench.js.cluster.ready'], storage: StorageType.File, num_replicas: NODE_COUNT }),
            5_000,
            'the R3 probe stream',
          );
          await withDeadline(jsm.streams.delete(READY_STREAM), 10_000, 'deleting the R3 probe stream');
          return true;
        } catch (error) {
          lastError = (error as Error).message;
          return false;
        }
      },
      60_000,
      `JetStream to accept an R${NODE_COUNT} stream`,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last refusal: ${lastError}`);
    });
  } finally {
    await closeNats(nc);
  }
}
